/**
 * How `bench:following` measures a follower, whichever library it belongs to: append-to-visible latency
 * over a follower that hands out one delivery at a time, and the shared sizes and figures.
 */
import { percentile } from './scenarios/single.js';

/** p50 and p99 of a sorted list of latencies, in ms. */
export interface Latency {
  readonly p50: number;
  readonly p99: number;
}

export const latencyOf = (sorted: Float64Array): Latency => ({
  p50: percentile(sorted, 0.5),
  p99: percentile(sorted, 0.99),
});

export interface FollowingSizes {
  /** Appends measured against a subscriber woken in process. */
  readonly live: number;
  /** Appends measured against a polling subscriber (about one poll interval each). */
  readonly polled: number;
  /** Unrecorded appends first: a poller's back-off settles (Emmett's grows to 1 s while batches are short). */
  readonly warmUp: number;
  /** Events a projection catches up over. */
  readonly backlog: number;
  /** Catch-ups per implementation, alternating @es and Emmett; the median is reported. */
  readonly rounds: number;
}

export const followingSizes = (quick: boolean): FollowingSizes =>
  quick
    ? { live: 100, polled: 10, warmUp: 5, backlog: 2_000, rounds: 3 }
    : { live: 500, polled: 40, warmUp: 5, backlog: 20_000, rounds: 3 };

/**
 * Deliveries pushed by a callback (Emmett's `eachMessage`), taken one at a time as promises (what an
 * async iterator gives ours). A failure of the consumer rejects the waiting taker and every later one,
 * so a dead consumer ends the run instead of hanging it.
 */
export class Deliveries {
  private pending = 0;
  private failure: { error: unknown } | undefined;
  private readonly takers: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];

  push(): void {
    const taker = this.takers.shift();
    if (taker) taker.resolve();
    else this.pending++;
  }

  fail(error: unknown): void {
    this.failure = { error };
    for (const taker of this.takers.splice(0)) taker.reject(error);
  }

  next(): Promise<void> {
    if (this.pending > 0) {
      this.pending--;
      return Promise.resolve();
    }
    if (this.failure) return Promise.reject(this.failure.error);
    return new Promise((resolve, reject) => this.takers.push({ resolve, reject }));
  }
}

/**
 * Runs `run` again after a failure `retryable` accepts, up to `tries` runs in all; any other failure, or
 * the last, is thrown. For a library's own flaky failures, so that a run measures what it means to do.
 */
export async function retrying<T>(
  run: () => Promise<T>,
  options: { tries: number; retryable: (error: unknown) => boolean; onRetry?: (error: unknown) => void },
): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await run();
    } catch (error) {
      if (tries >= options.tries || !options.retryable(error)) throw error;
      options.onRetry?.(error);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects when `promise` has not settled after `ms`: a follower that never delivers fails the run. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Append-to-visible latencies, sorted: for each append, the time from its start until the follower
 * delivers it. The follower has been waiting 5 ms when the append starts (as one that caught up a while
 * ago has), so a poller finds the event at its next poll. `append(i)` writes the i-th event of one
 * stream; the first `warmUp` appends are not recorded.
 */
export async function appendToVisible(
  next: () => Promise<unknown>,
  append: (index: number) => Promise<unknown>,
  count: number,
  warmUp: number,
): Promise<Float64Array> {
  const times = new Float64Array(count);
  for (let i = 0; i < warmUp + count; i++) {
    const seen = next();
    // A rejection is awaited below; until then it must not count as unhandled.
    seen.catch(() => undefined);
    await sleep(5);
    const t0 = performance.now();
    await append(i);
    await within(seen, 30_000, `delivery of append ${i}`);
    if (i >= warmUp) times[i - warmUp] = performance.now() - t0;
  }
  return times.sort();
}
