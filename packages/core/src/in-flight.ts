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
  /** How many operations have started and not yet settled. */
  private running = 0;
  /** Called when `running` drops to 0 while close() waits for it. */
  private drained: (() => void) | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** One callback for every operation's outcome, made once: a read is a promise and a count, nothing more. */
  private readonly settled = (): void => {
    this.running -= 1;
    if (this.running === 0 && this.drained !== undefined) {
      const drained = this.drained;
      this.drained = undefined;
      drained();
    }
  };

  /** `what` names the resource in the refusal's message, e.g. "the postgres datastore at ...". */
  constructor(private readonly what: () => string) {}

  /** True once close() has released the resource: every operation is refused from then on. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Throws StoreClosedError once closed. */
  check(): void {
    if (this.closed) throw this.refusal();
  }

  /**
   * Runs an operation, which close() waits for. It starts at once (a throw becomes the rejection), and
   * its own promise is returned: counting it costs one `then`, where starting it a microtask later and
   * keeping a set of the running ones made four promises per read (with the other cuts of round 2c,
   * ~2 µs of CPU per SQLite read; see docs/benchmarks.md).
   */
  run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.refusal());
    let result: Promise<T>;
    try {
      result = operation();
    } catch (error) {
      result = Promise.reject(error);
    }
    this.running += 1;
    result.then(this.settled, this.settled);
    return result;
  }

  private refusal(): StoreClosedError {
    return new StoreClosedError(
      `${this.what()} is closed: nothing was done (open a new one; a closed store never reopens)`,
    );
  }

  /** Waits until nothing runs, then releases (once; a second call waits for the first). */
  close(release: () => Promise<void>): Promise<void> {
    this.closing ??= (async () => {
      await this.drain();
      await release();
    })();
    return this.closing;
  }

  private async drain(): Promise<void> {
    for (;;) {
      while (this.running > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      // Queued writes start in microtasks after the previous one settles: after one macrotask, they run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // Closed in the same step that finds nothing running: an operation started in the microtasks
      // before `close` resumed would otherwise be counted, not refused, and run under release().
      if (this.running === 0) {
        this.closed = true;
        return;
      }
    }
  }
}
