import { errors, policies } from 'cassandra-driver';
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
