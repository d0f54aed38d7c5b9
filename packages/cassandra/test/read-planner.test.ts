import { SequencedItem } from '@es/core';
import { type NormalizedQuery } from '@es/core/backend';
import type { BucketReads, PositionRange, RowsWithHead, RowsWithNewer } from '../src/bound-table.js';
import { KnownBuckets } from '../src/known.js';
import { ReadPlanner } from '../src/read-planner.js';

// The read planners against buckets kept in memory: no server. The fake lays items out as the append
// protocol does (integer tables: a batch whole in the bucket of its first position, heads as statics,
// an index row per bucket), and can run an append between any two reads, as another process would.

const B = 4;
const ID = 'sequence';

class MemoryBuckets implements BucketReads {
  readonly buckets = new Map<number, { head: number | undefined; items: SequencedItem[] }>();
  readonly index = new Set<number>();
  /** Marked (snapshot) tables: each bucket's `newer` mark. */
  readonly marks = new Map<number, number>();
  reads = 0;
  /** Runs before each read: a concurrent writer. */
  beforeRead: () => void = () => undefined;

  constructor(
    private readonly contiguous: boolean,
    readonly marked = false,
  ) {}

  get all(): SequencedItem[] {
    return [...this.buckets.values()].flatMap((b) => b.items).sort((a, b) => a.position - b.position);
  }

  /** Appends `count` items after the last one (integer) or at the given positions (sparse). */
  append(positions: number[]): void {
    const first = positions[0]!;
    const bucket = Math.floor(first / B);
    this.index.add(bucket);
    if (this.marked) {
      // As AppendProtocol.announce does: every listed bucket below is marked, and this one when a newer
      // one is listed.
      for (const listed of this.index) {
        if (listed < bucket) this.marks.set(listed, bucket);
        if (listed > bucket) this.marks.set(bucket, listed);
      }
    }
    const entry = this.buckets.get(bucket) ?? { head: undefined, items: [] };
    for (const p of positions) entry.items.push(new SequencedItem(ID, p, 't', String(p)));
    entry.items.sort((a, b) => a.position - b.position);
    if (this.contiguous) entry.head = positions[positions.length - 1];
    this.buckets.set(bucket, entry);
  }

  appendNext(count: number): void {
    const all = this.all;
    const next = all.length === 0 ? 0 : all[all.length - 1]!.position + 1;
    this.append(Array.from({ length: count }, (_, i) => next + i));
  }

  /** Reads in flight at once, at most (each read takes a turn of the event loop, as a round trip would). */
  peak = 0;
  private inFlight = 0;

  private async touch(): Promise<void> {
    this.reads += 1;
    this.beforeRead();
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight -= 1;
  }

  private inRange(items: SequencedItem[], range: PositionRange): SequencedItem[] {
    return items.filter((i) => i.position >= range.low && i.position <= range.high);
  }

  async rowsIn(sequenceId: string, bucket: number, range: PositionRange, descending: boolean, limit: number) {
    await this.touch();
    const items = this.inRange(this.buckets.get(bucket)?.items ?? [], range);
    if (descending) items.reverse();
    return items.slice(0, Math.max(0, limit));
  }

  async rowsWithHead(
    sequenceId: string,
    bucket: number,
    from: number,
    high: number,
    limit: number,
    descending: boolean,
  ): Promise<RowsWithHead> {
    await this.touch();
    const entry = this.buckets.get(bucket);
    const items = (entry?.items ?? []).filter((i) => i.position >= from && i.position <= high);
    if (descending) items.reverse();
    const page = items.slice(0, limit);
    return { items: page, head: page.length > 0 ? entry?.head : undefined };
  }

  async newestIn(
    sequenceId: string,
    bucket: number,
    range: PositionRange,
    limit: number,
  ): Promise<RowsWithNewer> {
    await this.touch();
    const items = this.inRange(this.buckets.get(bucket)?.items ?? [], range).reverse();
    return { items: items.slice(0, limit), newer: items.length > 0 ? this.marks.get(bucket) : undefined };
  }

  async headOf(sequenceId: string, bucket: number): Promise<number | undefined> {
    await this.touch();
    return this.buckets.get(bucket)?.head;
  }

  async *walkIndex(sequenceId: string, from: number, to: number, descending: boolean) {
    await this.touch();
    const buckets = [...this.index].filter((b) => b >= from && b <= to).sort((a, b) => a - b);
    if (descending) buckets.reverse();
    yield* buckets;
  }

  async indexedBuckets(sequenceId: string, from: number, to: number, descending: boolean, limit: number) {
    const out: number[] = [];
    for await (const b of this.walkIndex(sequenceId, from, to, descending)) out.push(b);
    return out.slice(0, limit);
  }
}

const query = (q: Partial<NormalizedQuery>): NormalizedQuery => ({
  lower: -Infinity,
  lowerInclusive: true,
  upper: Infinity,
  upperInclusive: true,
  limit: undefined,
  descending: false,
  ...q,
});

/** What a query must return: the matching items, in order, at most `limit`. */
function expected(items: readonly SequencedItem[], q: NormalizedQuery): number[] {
  const ps = items
    .map((i) => i.position)
    .filter(
      (p) =>
        (q.lowerInclusive ? p >= q.lower : p > q.lower) && (q.upperInclusive ? p <= q.upper : p < q.upper),
    );
  if (q.descending) ps.reverse();
  return ps.slice(0, q.limit ?? Infinity);
}

const integerTable = { bucketSize: B, contiguous: true, positionKind: 'integer' as const };
const sparseTable = { bucketSize: B, contiguous: false, positionKind: 'integer' as const };

/** A deterministic pseudo-random sequence (the same cases on every run). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function queries(max: number, rnd: () => number): NormalizedQuery[] {
  const out: NormalizedQuery[] = [];
  for (let i = 0; i < 60; i++) {
    const a = Math.floor(rnd() * (max + 3)) - 1;
    const b = a + Math.floor(rnd() * (max + 2));
    out.push(
      query({
        lower: rnd() < 0.2 ? -Infinity : a,
        lowerInclusive: rnd() < 0.7,
        upper: rnd() < 0.2 ? Infinity : b,
        upperInclusive: rnd() < 0.7,
        limit: rnd() < 0.5 ? undefined : 1 + Math.floor(rnd() * 6),
        descending: rnd() < 0.5,
      }),
    );
  }
  return out;
}

describe('read planners, against buckets in memory (no server)', () => {
  it('integer tables: every range, limit and direction, over batches that spill past their bucket', async () => {
    const rnd = random(7);
    for (let round = 0; round < 20; round++) {
      const buckets = new MemoryBuckets(true);
      // One remembered state per round, as one strategy instance keeps across queries.
      const planner = new ReadPlanner(buckets, integerTable, new KnownBuckets());
      for (let batch = 0; batch < 8; batch++) {
        buckets.appendNext(1 + Math.floor(rnd() * 9)); // up to 9 items: some run past their bucket of 4
        for (const q of queries(buckets.all.length, rnd)) {
          const got = (await planner.select(ID, q)).map((i) => i.position);
          expect({ q, got }).toEqual({ q, got: expected(buckets.all, q) });
        }
      }
    }
  });

  it('sparse tables (timestamps, snapshots): every range, limit and direction', async () => {
    const rnd = random(11);
    for (let round = 0; round < 20; round++) {
      const buckets = new MemoryBuckets(false);
      const planner = new ReadPlanner(buckets, sparseTable, new KnownBuckets());
      let position = 0;
      for (let batch = 0; batch < 8; batch++) {
        position += Math.floor(rnd() * 7);
        const bucketEnd = (Math.floor(position / B) + 1) * B;
        const count = Math.min(1 + Math.floor(rnd() * 3), bucketEnd - position);
        buckets.append(Array.from({ length: count }, (_, i) => position + i));
        position += count;
        for (const q of queries(position, rnd)) {
          const got = (await planner.select(ID, q)).map((i) => i.position);
          expect({ q, got }).toEqual({ q, got: expected(buckets.all, q) });
        }
      }
    }
  });

  it('marked sparse tables (snapshots): every range, limit and direction, buckets opened in any order, by a reader that remembers and one that does not', async () => {
    const rnd = random(5);
    for (let round = 0; round < 20; round++) {
      const buckets = new MemoryBuckets(false, true);
      const remembering = new ReadPlanner(buckets, sparseTable, new KnownBuckets());
      const taken = new Set<number>();
      for (let batch = 0; batch < 10; batch++) {
        let position = Math.floor(rnd() * 40);
        while (taken.has(position)) position += 1;
        taken.add(position);
        buckets.append([position]);
        const fresh = new ReadPlanner(buckets, sparseTable, new KnownBuckets());
        for (const q of queries(40, rnd)) {
          for (const planner of [remembering, fresh]) {
            const got = (await planner.select(ID, q)).map((i) => i.position);
            expect({ q, got }).toEqual({ q, got: expected(buckets.all, q) });
          }
        }
      }
    }
  });

  it('marked sparse tables: the newest item is one read when the remembered bucket is still the newest', async () => {
    const buckets = new MemoryBuckets(false, true);
    const planner = new ReadPlanner(buckets, sparseTable, new KnownBuckets());
    const newest = query({ descending: true, limit: 1 });
    buckets.append([1]);
    buckets.append([9]); // bucket 2; bucket 0 is marked
    expect((await planner.select(ID, newest)).map((i) => i.position)).toEqual([9]); // learns bucket 2
    buckets.reads = 0;
    expect((await planner.select(ID, newest)).map((i) => i.position)).toEqual([9]);
    expect(buckets.reads).toBe(1);
    buckets.append([13]); // another writer opens bucket 3, marking bucket 2
    expect((await planner.select(ID, newest)).map((i) => i.position)).toEqual([13]);
    buckets.append([6]); // into bucket 1, below the newest: marked with its row
    buckets.reads = 0;
    expect((await planner.select(ID, newest)).map((i) => i.position)).toEqual([13]);
    expect(buckets.reads).toBe(1);
  });

  it('marked sparse tables: knowing nothing, the newest item is read from the first bucket while the index is read (one round trip, not two), and a newer bucket still wins', async () => {
    const buckets = new MemoryBuckets(false, true);
    const newest = query({ descending: true, limit: 1 });
    buckets.append([1]);
    buckets.append([3]);
    expect(
      (await new ReadPlanner(buckets, sparseTable, new KnownBuckets()).select(ID, newest))[0]?.position,
    ).toBe(3);
    expect(buckets.peak).toBe(2); // the index, then the bucket, one at a time, before
    buckets.append([9]); // bucket 2: bucket 0 is marked
    const fresh = new ReadPlanner(buckets, sparseTable, new KnownBuckets());
    expect((await fresh.select(ID, newest)).map((i) => i.position)).toEqual([9]);
    expect((await fresh.select(ID, query({ descending: true }))).map((i) => i.position)).toEqual([9, 3, 1]);
  });

  it('appends landing between its reads: an ascending read returns every item that existed before it, contiguous, and nothing that never existed', async () => {
    const rnd = random(3);
    for (let round = 0; round < 40; round++) {
      const buckets = new MemoryBuckets(true);
      const planner = new ReadPlanner(buckets, integerTable, new KnownBuckets());
      buckets.appendNext(1 + Math.floor(rnd() * 9));
      for (let step = 0; step < 6; step++) {
        const before = buckets.all.map((i) => i.position);
        // Another writer appends during the read, after a random number of the planner's reads.
        let countdown = Math.floor(rnd() * 4);
        buckets.beforeRead = () => {
          if (countdown-- === 0) buckets.appendNext(1 + Math.floor(rnd() * 9));
        };
        const from = Math.floor(rnd() * (before.length + 1));
        const got = (await planner.select(ID, query({ lower: from }))).map((i) => i.position);
        buckets.beforeRead = () => undefined;
        const after = buckets.all.map((i) => i.position);
        // A prefix of what exists after the read, covering at least what existed before it.
        expect(got).toEqual(after.filter((p) => p >= from).slice(0, got.length));
        expect(got.length).toBeGreaterThanOrEqual(before.filter((p) => p >= from).length);
      }
    }
  });

  it('a descending read that freezes the tail bucket as it reads it returns the tail once (it returned 21, 20 twice before)', async () => {
    const buckets = new MemoryBuckets(true);
    const planner = new ReadPlanner(buckets, integerTable, new KnownBuckets());
    for (const count of [6, 9, 5]) buckets.appendNext(count); // buckets 0: 0-5, 1: 6-14, 3: 15-19
    await planner.select(ID, query({})); // learns the three as frozen
    buckets.appendNext(7); // bucket 5: 20-26, past its range, so frozen too; not yet known
    const q = query({ lower: 8, lowerInclusive: false, upper: 21, descending: true });
    expect((await planner.select(ID, q)).map((i) => i.position)).toEqual(expected(buckets.all, q));
  });

  it('what it remembers saves reads: a second point read of a frozen bucket is one read', async () => {
    const buckets = new MemoryBuckets(true);
    const planner = new ReadPlanner(buckets, integerTable, new KnownBuckets());
    for (let i = 0; i < 5; i++) buckets.appendNext(B); // buckets 0..4, each exactly full: frozen
    expect((await planner.select(ID, query({}))).map((i) => i.position)).toHaveLength(5 * B);
    buckets.reads = 0;
    const [found] = await planner.select(ID, query({ lower: 9, upper: 9, limit: 1 }));
    expect(found?.position).toBe(9);
    expect(buckets.reads).toBe(1);
  });
});
