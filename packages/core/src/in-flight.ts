import { StoreClosedError } from './errors.js';

/**
 * The operations running on something that closes (a pool, a session): the one place a backend's
 * `close()` and its operations meet.
 *
 * `close(release)` first lets every operation finish: those already running and those that start
 * while it waits, because a queue of writes (an application's persistence policy) starts its next
 * write a few microtasks after the previous one settles, and `policy.close(); datastore.close();`
 * without `await` must still store all of them. When a whole turn of the event loop passes with
 * nothing running, it releases the resource; an operation started after that is refused with
 * StoreClosedError, never run on a pool that was reopened behind the owner's back.
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;
  private closing: Promise<void> | undefined;

  /** `what` names the resource in the refusal's message, e.g. "the postgres datastore at ...". */
  constructor(private readonly what: () => string) {}

  /** True once close() has released the resource: every operation is refused from then on. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Throws StoreClosedError once closed. */
  check(): void {
    if (this.closed) {
      throw new StoreClosedError(
        `${this.what()} is closed: nothing was done (open a new one; a closed store never reopens)`,
      );
    }
  }

  /** Runs an operation, which close() waits for. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      this.check();
    } catch (error) {
      return Promise.reject(error);
    }
    const running = Promise.resolve().then(operation);
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return running;
  }

  /** Waits until nothing runs, then releases (once; a second call waits for the first). */
  close(release: () => Promise<void>): Promise<void> {
    this.closing ??= (async () => {
      await this.drain();
      this.closed = true;
      await release();
    })();
    return this.closing;
  }

  private async drain(): Promise<void> {
    for (;;) {
      while (this.running.size > 0) await Promise.all([...this.running]);
      // Queued writes start in microtasks after the previous one settles: after one macrotask, they run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.running.size === 0) return;
    }
  }
}
