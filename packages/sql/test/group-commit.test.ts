/**
 * The group committer, without a database: a fake target whose every call waits until the test settles
 * it, so each interleaving is set up by hand. What is grouped, in which order, and who gets which
 * outcome; the database side (one statement, each batch's own check) is in group-commit-appends.test.ts.
 */
import { ConcurrencyError, OutcomeUnknownError, SequencedItem, StoreClosedError } from '@es/core';
import { InFlight } from '@es/core/backend';
import {
  DEFAULT_GROUP_LIMITS,
  GroupCommitter,
  type GroupCommitTarget,
  type GroupLimits,
} from '../src/group-commit.js';

interface Call {
  readonly kind: 'items' | 'batches';
  readonly batches: readonly (readonly SequencedItem[])[];
  resolve(outcomes?: (ConcurrencyError | undefined)[]): void;
  reject(error: unknown): void;
}

/** Records each call; the test settles it. */
class FakeTarget implements GroupCommitTarget {
  readonly calls: Call[] = [];

  insertItems(items: readonly SequencedItem[]): Promise<void> {
    return new Promise((resolve, reject) =>
      this.calls.push({ kind: 'items', batches: [items], resolve: () => resolve(), reject }),
    );
  }

  insertBatches(batches: readonly (readonly SequencedItem[])[]): Promise<(ConcurrencyError | undefined)[]> {
    return new Promise((resolve, reject) =>
      this.calls.push({
        kind: 'batches',
        batches,
        resolve: (outcomes) => resolve(outcomes ?? batches.map(() => undefined)),
        reject,
      }),
    );
  }

  /** Each call as "items a" or "batches a,b": its kind and its batches' sequences. */
  get shape(): string[] {
    return this.calls.map((c) => `${c.kind} ${c.batches.map((b) => b[0]!.sequenceId).join(',')}`);
  }

  last(): Call {
    return this.calls[this.calls.length - 1]!;
  }
}

function batch(sequenceId: string, first = 0, length = 1): SequencedItem[] {
  return Array.from({ length }, (_, i) => new SequencedItem(sequenceId, first + i, 'topic', '{}'));
}

/** Lets every pending promise callback run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A promise's outcome so far: 'pending', 'stored', or the error it rejected with. */
function watch(promise: Promise<void>): { readonly outcome: unknown } {
  const state: { outcome: unknown } = { outcome: 'pending' };
  promise.then(
    () => (state.outcome = 'stored'),
    (error: unknown) => (state.outcome = error),
  );
  return state;
}

/** One group in flight at a time unless the test says otherwise: the interleavings are simpler to set. */
function setUp(limits: Partial<GroupLimits> = {}): { target: FakeTarget; committer: GroupCommitter } {
  const target = new FakeTarget();
  return {
    target,
    committer: new GroupCommitter(target, { ...DEFAULT_GROUP_LIMITS, maxInFlight: 1, ...limits }),
  };
}

describe('GroupCommitter', () => {
  it('sends a lone append at once, through insertItems', async () => {
    const { target, committer } = setUp();
    const a = watch(committer.append(batch('a')));
    expect(target.shape).toEqual(['items a']);
    target.last().resolve();
    await settled();
    expect(a.outcome).toBe('stored');
    // Nothing in flight again: the next lone append also goes at once.
    committer.append(batch('b'));
    expect(target.shape).toEqual(['items a', 'items b']);
  });

  it('queues appends made while one is in flight, and sends them as one insertBatches, in order', async () => {
    const { target, committer } = setUp();
    const a = watch(committer.append(batch('a')));
    const queued = ['b', 'c', 'd'].map((s) => watch(committer.append(batch(s))));
    await settled();
    expect(target.shape).toEqual(['items a']);
    target.calls[0]!.resolve();
    await settled();
    expect(a.outcome).toBe('stored');
    expect(target.shape).toEqual(['items a', 'batches b,c,d']);
    // Settled only once their commit is.
    expect(queued.map((q) => q.outcome)).toEqual(['pending', 'pending', 'pending']);
    target.last().resolve();
    await settled();
    expect(queued.map((q) => q.outcome)).toEqual(['stored', 'stored', 'stored']);
  });

  it('never puts two batches of one sequence in a group: the later ones wait, in their order', async () => {
    const { target, committer } = setUp();
    committer.append(batch('x'));
    const b0 = watch(committer.append(batch('b', 0)));
    committer.append(batch('c', 0));
    const b1 = watch(committer.append(batch('b', 1)));
    committer.append(batch('d', 0));
    const b2 = watch(committer.append(batch('b', 2)));
    target.last().resolve();
    await settled();
    expect(target.shape).toEqual(['items x', 'batches b,c,d']);
    expect(target.last().batches[0]![0]!.position).toBe(0);
    target.last().resolve();
    await settled();
    expect(b0.outcome).toBe('stored');
    expect(b1.outcome).toBe('pending');
    // Alone in its group: insertItems.
    expect(target.shape.slice(2)).toEqual(['items b']);
    expect(target.last().batches[0]![0]!.position).toBe(1);
    target.last().resolve();
    await settled();
    expect(target.last().batches[0]![0]!.position).toBe(2);
    target.last().resolve();
    await settled();
    expect([b1.outcome, b2.outcome]).toEqual(['stored', 'stored']);
  });

  it('with two groups in flight, a second append goes at once; a sequence in flight waits', async () => {
    const { target, committer } = setUp({ maxInFlight: 2 });
    const x = watch(committer.append(batch('x')));
    committer.append(batch('y'));
    const queued = ['a', 'y', 'b'].map((s) => watch(committer.append(batch(s, s === 'y' ? 1 : 0))));
    expect(target.shape).toEqual(['items x', 'items y']);
    target.calls[0]!.resolve();
    await settled();
    expect(x.outcome).toBe('stored');
    // y is still in flight: its next batch waits, and the others go.
    expect(target.shape.slice(2)).toEqual(['batches a,b']);
    target.calls[1]!.resolve();
    await settled();
    expect(target.shape.slice(3)).toEqual(['items y']);
    expect(target.last().batches[0]![0]!.position).toBe(1);
    target.calls[2]!.resolve();
    target.calls[3]!.resolve();
    await settled();
    expect(queued.map((q) => q.outcome)).toEqual(['stored', 'stored', 'stored']);
  });

  it('a wrong number of outcomes fails the group, rather than reporting a batch stored', async () => {
    const { target, committer } = setUp();
    committer.append(batch('x'));
    const callers = ['a', 'b'].map((s) => watch(committer.append(batch(s))));
    target.last().resolve();
    await settled();
    target.last().resolve([undefined]);
    await settled();
    for (const caller of callers) expect(caller.outcome).toBeInstanceOf(Error);
  });

  it('bounds a group by items and characters; what does not fit goes next, in order', async () => {
    const { target, committer } = setUp({ maxItems: 5, maxChars: 1_000 });
    committer.append(batch('x'));
    for (const s of ['a', 'b', 'c']) committer.append(batch(s, 0, 2));
    // Larger than a whole group: still sent, alone.
    committer.append(batch('big', 0, 7));
    committer.append([new SequencedItem('wide1', 0, 't', 'x'.repeat(600))]);
    committer.append([new SequencedItem('wide2', 0, 't', 'x'.repeat(600))]);
    for (let i = 0; i < 4; i++) {
      target.last().resolve();
      await settled();
    }
    expect(target.shape).toEqual(['items x', 'batches a,b', 'items c', 'items big', 'items wide1']);
    target.last().resolve();
    await settled();
    expect(target.shape.slice(5)).toEqual(['items wide2']);
  });

  it("gives each caller its own batch's outcome", async () => {
    const { target, committer } = setUp();
    committer.append(batch('x'));
    const callers = ['a', 'b', 'c'].map((s) => watch(committer.append(batch(s))));
    target.last().resolve();
    await settled();
    const conflict = new ConcurrencyError('b does not continue', 'b', 0);
    target.last().resolve([undefined, conflict, undefined]);
    await settled();
    expect(callers.map((c) => c.outcome)).toEqual(['stored', conflict, 'stored']);
  });

  it("a group's failure reaches every caller of that group, and only them; the queue moves on", async () => {
    const { target, committer } = setUp();
    const first = watch(committer.append(batch('x')));
    const group = ['a', 'b'].map((s) => watch(committer.append(batch(s))));
    target.last().resolve();
    await settled();
    const later = ['c', 'd'].map((s) => watch(committer.append(batch(s))));
    const lost = new OutcomeUnknownError('the connection broke during the commit');
    target.last().reject(lost);
    await settled();
    expect(first.outcome).toBe('stored');
    expect(group.map((c) => c.outcome)).toEqual([lost, lost]);
    expect(later.map((c) => c.outcome)).toEqual(['pending', 'pending']);
    expect(target.shape.slice(2)).toEqual(['batches c,d']);
    target.last().resolve();
    await settled();
    expect(later.map((c) => c.outcome)).toEqual(['stored', 'stored']);
  });

  it('a lone failure reaches its caller only', async () => {
    const { target, committer } = setUp();
    const first = watch(committer.append(batch('x')));
    const next = watch(committer.append(batch('a')));
    const refused = new Error('refused');
    target.last().reject(refused);
    await settled();
    expect(first.outcome).toBe(refused);
    expect(next.outcome).toBe('pending');
    target.last().resolve();
    await settled();
    expect(next.outcome).toBe('stored');
  });

  it('when the group lost to a taken position without saying whose, appends its batches one by one', async () => {
    const { target, committer } = setUp();
    committer.append(batch('x'));
    const callers = ['a', 'b', 'c'].map((s) => watch(committer.append(batch(s))));
    target.last().resolve();
    await settled();
    target.last().reject(new ConcurrencyError('a position of one of 3 appends is taken'));
    await settled();
    expect(target.shape.slice(2)).toEqual(['items a']);
    target.last().resolve();
    await settled();
    const taken = new ConcurrencyError('position 0 of sequence "b" is taken', 'b', 0);
    target.last().reject(taken);
    await settled();
    target.last().resolve();
    await settled();
    expect(target.shape.slice(2)).toEqual(['items a', 'items b', 'items c']);
    expect(callers.map((c) => c.outcome)).toEqual(['stored', taken, 'stored']);
  });

  it('a target that throws instead of rejecting does not stall the queue', async () => {
    const target = new FakeTarget();
    let throws = true;
    const committer = new GroupCommitter({
      insertItems: (items) => {
        if (throws) throw new TypeError('thrown, not rejected');
        return target.insertItems(items);
      },
      insertBatches: (batches) => target.insertBatches(batches),
    });
    const first = watch(committer.append(batch('x')));
    await settled();
    expect(first.outcome).toBeInstanceOf(TypeError);
    throws = false;
    const next = watch(committer.append(batch('a')));
    expect(target.shape).toEqual(['items a']);
    target.last().resolve();
    await settled();
    expect(next.outcome).toBe('stored');
  });

  it("closing waits for queued appends (each its caller's operation), then refuses new ones", async () => {
    const { target, committer } = setUp();
    const operations = new InFlight(() => 'the test datastore');
    const append = (s: string) => watch(operations.run(() => committer.append(batch(s))));
    const callers = ['x', 'a', 'b'].map(append);
    await settled();
    let released = false;
    const closing = operations.close(async () => {
      released = true;
    });
    target.last().resolve();
    await settled();
    expect(target.shape).toEqual(['items x', 'batches a,b']);
    expect(released).toBe(false);
    target.last().resolve();
    await closing;
    expect(released).toBe(true);
    expect(callers.map((c) => c.outcome)).toEqual(['stored', 'stored', 'stored']);
    const late = append('late');
    await settled();
    expect(late.outcome).toBeInstanceOf(StoreClosedError);
    expect(target.calls).toHaveLength(2);
  });
});

describe('GroupCommitter with gather (a synchronous driver: SQLite)', () => {
  /** a alone, then b and c queued behind it, as one group: the committer has seen writers contend. */
  async function contended(target: FakeTarget, committer: GroupCommitter): Promise<void> {
    committer.append(batch('a'));
    committer.append(batch('b'));
    committer.append(batch('c'));
    target.last().resolve();
    await settled();
    expect(target.shape).toEqual(['items a', 'batches b,c']);
    target.last().resolve();
    await settled();
  }

  it('a lone writer never waits: each append goes at once', async () => {
    const { target, committer } = setUp({ gather: true });
    for (const s of ['a', 'b', 'c']) {
      committer.append(batch(s));
      expect(target.shape.at(-1)).toBe(`items ${s}`);
      target.last().resolve();
      await settled();
    }
  });

  it('after writers contended, the next group waits for the turn to end, so the turn’s appends share it', async () => {
    const { target, committer } = setUp({ gather: true });
    await contended(target, committer);
    // Nothing in flight, yet d waits: e and f, made in the same turn, join it.
    const d = watch(committer.append(batch('d')));
    expect(target.calls).toHaveLength(2);
    committer.append(batch('e'));
    await Promise.resolve();
    committer.append(batch('f'));
    await settled();
    expect(target.shape.slice(2)).toEqual(['batches d,e,f']);
    target.last().resolve();
    await settled();
    expect(d.outcome).toBe('stored');
  });

  it('the wait is bounded in microtasks: a caller looping on settled promises does not starve it', async () => {
    const { target, committer } = setUp({ gather: true });
    await contended(target, committer);
    committer.append(batch('d'));
    // Never lets the event loop turn (as a follower polling SQLite, whose reads resolve at once).
    let spins = 0;
    while (target.calls.length === 2 && spins < 100_000) {
      spins += 1;
      await Promise.resolve();
    }
    expect(target.shape.slice(2)).toEqual(['items d']);
    expect(spins).toBeLessThan(100_000);
  });

  it('a group found alone after the wait ends it: the next append goes at once again', async () => {
    const { target, committer } = setUp({ gather: true });
    await contended(target, committer);
    committer.append(batch('d'));
    expect(target.calls).toHaveLength(2);
    await settled();
    expect(target.shape.slice(2)).toEqual(['items d']);
    target.last().resolve();
    await settled();
    committer.append(batch('e'));
    expect(target.shape.slice(3)).toEqual(['items e']);
  });

  it('without gather, the append after a contended group goes at once (PostgreSQL: it is in flight for a round trip)', async () => {
    const { target, committer } = setUp();
    await contended(target, committer);
    committer.append(batch('d'));
    expect(target.shape.slice(2)).toEqual(['items d']);
  });
});
