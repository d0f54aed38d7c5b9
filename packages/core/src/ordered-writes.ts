/**
 * Background writes, run one after another per key (an entity id), so that writes started by synchronous
 * code (an attribute setter) land in the order they were made. A failure is kept and rethrown by the next
 * `settle` of that key, or by `settleAll`: it is never an unhandled rejection and never silent. Once a
 * write of a key fails, that key's later queued writes are not attempted (they would build on a state
 * that was never stored); the rethrown error keeps its type and gains `abandonedWrites`, their count.
 */
export class OrderedWrites {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, { error: unknown; abandoned: number }>();

  get size(): number {
    return this.tails.size;
  }

  /** True when nothing is queued and no failure waits to be rethrown: `settle` would do nothing. */
  get isIdle(): boolean {
    return this.tails.size === 0 && this.failures.size === 0;
  }

  enqueue(key: string, write: () => Promise<void>): void {
    const previous = this.tails.get(key);
    const run = async (): Promise<void> => {
      const failure = this.failures.get(key);
      if (failure) {
        failure.abandoned += 1;
        return;
      }
      try {
        await write();
      } catch (error) {
        this.failures.set(key, { error, abandoned: 0 });
      }
    };
    // `run` never rejects, so neither does any tail: nothing here can become an unhandled rejection.
    const tail = previous ? previous.then(run) : run();
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
  }

  /** Waits for the key's queued writes; rethrows (once) the first failure among them. */
  async settle(key: string): Promise<void> {
    const tail = this.tails.get(key);
    if (tail) await tail;
    this.rethrow(key);
  }

  /** Waits for every queued write; rethrows the first failure (all of them, if several keys failed). */
  async settleAll(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
    const keys = [...this.failures.keys()];
    if (keys.length === 1) this.rethrow(keys[0]!);
    if (keys.length > 1) {
      const errors = keys.map((key) => this.take(key));
      throw new AggregateError(errors, `${errors.length} background writes failed`);
    }
  }

  private rethrow(key: string): void {
    if (this.failures.has(key)) throw this.take(key);
  }

  private take(key: string): unknown {
    const { error, abandoned } = this.failures.get(key)!;
    this.failures.delete(key);
    // A frozen error cannot carry the count; it is still rethrown as it is.
    if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
      Object.defineProperty(error, 'abandonedWrites', { value: abandoned, configurable: true });
    }
    return error;
  }
}
