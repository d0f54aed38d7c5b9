import { randomFillSync } from 'node:crypto';
import { errors, policies, types } from 'cassandra-driver';
import { neverSent } from './datastore.js';

/** ResponseError codes that mean the coordinator refused or rejected the request before applying anything. */
const REJECTED = new Set([
  0x000a, // protocol error
  0x0100, // bad credentials
  0x1000, // unavailable
  0x1001, // overloaded
  0x1002, // bootstrapping
  0x2000, // syntax error
  0x2100, // unauthorized
  0x2200, // invalid
  0x2300, // config error
  0x2400, // already exists
  0x2500, // unprepared
]);

/** True when a failed conditional write may nevertheless have been applied (a timeout, a lost connection). */
export function outcomeMayBeUnknown(error: unknown): boolean {
  if (error instanceof errors.NoHostAvailableError || error instanceof errors.BusyConnectionError)
    return false;
  if (neverSent(error)) return false;
  if (error instanceof errors.ArgumentError || error instanceof TypeError) return false;
  if (error instanceof errors.ResponseError) return !REJECTED.has(error.code);
  return true;
}

/**
 * Conditional writes are never resent by the driver: a resend after a timeout could apply twice or
 * hide the first attempt's outcome. Their failures are resolved by a SERIAL read instead.
 */
export const NEVER_RETRY = new policies.retry.FallthroughRetryPolicy();

export function explain(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const IDS_PER_FILL = 256;
let entropy = Buffer.alloc(0);
let used = 0;

/**
 * A new commit id: a random (version 4) UUID, as `types.Uuid.random()` makes, from a buffer filled 256
 * ids at a time; the driver's asks the CSPRNG for 16 bytes per id, a few percent of an append's CPU.
 */
export function newCommitId(): types.Uuid {
  if (used >= entropy.length) {
    entropy = randomFillSync(Buffer.allocUnsafe(16 * IDS_PER_FILL));
    used = 0;
  }
  const bytes = Buffer.from(entropy.subarray(used, used + 16));
  used += 16;
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return new types.Uuid(bytes);
}
