/**
 * The in-process "appended" signal of one notification log: raised after new notifications commit, so
 * that a follower in this process wakes at once instead of waiting for its next poll. It carries no
 * data (followers read the log itself), so a raise that comes too early or twice costs one read, and
 * one that never comes (an append made by another process) costs one poll interval.
 *
 * A follower notes `count` before it reads, and after a read that found nothing new it waits with
 * `wait(count)`: a raise that happened during the read resolves the wait at once, so no raise is lost
 * between the read and the wait.
 */
export class AppendSignal {
  #count = 0;
  #listeners = new Set<() => void>();

  /** How many times the signal was raised in this process. */
  get count(): number {
    return this.#count;
  }

  /**
   * Says that new notifications may be readable. Backends raise it after an append commits; anything
   * else that extends the log in this process (the Cassandra feed's sequencer) raises it too.
   */
  raise(): void {
    this.#count += 1;
    // Most stores have no follower in process: no copy of an empty set on every append.
    if (this.#listeners.size === 0) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // A listener's failure is its own: the writer that raised the signal has already committed.
      }
    }
  }

  /** Calls `listener` after each raise, until the returned function is called. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Resolves `true` once the signal has been raised more than `seen` times (at once if it already was),
   * `false` after `timeoutMs` or when `signal` aborts, whichever comes first.
   */
  wait(seen: number, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    if (this.#count > seen) return Promise.resolve(true);
    const { timeoutMs, signal } = options;
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (raised: boolean): void => {
        stop();
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(raised);
      };
      const onAbort = (): void => finish(false);
      const stop = this.listen(() => finish(true));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs))
        timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
    });
  }
}

const signals = new Map<string, AppendSignal>();

/**
 * The one signal of the log named `key` in this process. A backend's `appended` is the signal of its
 * log's identity (its database and table, say), so that every object in the process that writes to
 * that log, whichever recorder instance it went through, wakes every follower of it.
 */
export function appendSignalFor(key: string): AppendSignal {
  let signal = signals.get(key);
  if (signal === undefined) signals.set(key, (signal = new AppendSignal()));
  return signal;
}
