import type { PositionKind, SequencedItem } from '@es/core';
import type { NormalizedQuery } from '@es/core/backend';
import type { BucketReads, PositionRange } from './bound-table.js';
import { type KnownBuckets, type KnownSequence, learnHead, nextAfter } from './known.js';

const ignore = (): void => undefined;

/** What a planner needs of a table definition. */
export interface PlannedTable {
  readonly bucketSize: number;
  /** Integer tables: positions contiguous from 0, a batch whole in the bucket of its first position. */
  readonly contiguous: boolean;
  readonly positionKind: PositionKind;
}

/**
 * Plans the reads of one query: which buckets, in which order, how many at once. It knows the layout
 * (docs/cassandra.md: "Reads, and what a strategy remembers") and what the strategy has learnt about
 * buckets (known.ts), and reads through `BucketReads`, so it runs against CQL or against the in-memory
 * buckets of its unit tests.
 */
export class ReadPlanner {
  constructor(
    private readonly reads: BucketReads,
    private readonly table: PlannedTable,
    private readonly known: KnownBuckets,
  ) {}

  private bucketOf(position: number): number {
    return Math.floor(position / this.table.bucketSize);
  }

  async select(sequenceId: string, query: NormalizedQuery): Promise<SequencedItem[]> {
    try {
      return await this.selectKnowing(sequenceId, query);
    } catch (error) {
      if (!(error instanceof KnowledgeContradicted)) throw error;
      return this.selectKnowing(sequenceId, query); // knowing nothing now, it cannot be contradicted again
    }
  }

  private async selectKnowing(sequenceId: string, query: NormalizedQuery): Promise<SequencedItem[]> {
    const range = positionRange(this.table.positionKind, query);
    if (range === undefined) return [];
    const limit = query.limit ?? Infinity;
    const out: SequencedItem[] = [];
    const take = async (bucket: number): Promise<void> => {
      for (const item of await this.reads.rowsIn(
        sequenceId,
        bucket,
        range,
        query.descending,
        limit - out.length,
      ))
        out.push(item);
    };
    const low = this.bucketOf(range.low);
    const high = this.bucketOf(range.high);

    if (!this.table.contiguous) {
      // Items lie in the bucket of their position: walk the indexed buckets of the range.
      if (low === high) {
        await take(low);
        return out;
      }
      const known = this.known.get(sequenceId);
      if (query.descending && query.upper !== Infinity)
        return this.selectDownFromBound(sequenceId, known, range, limit, low, high, out);
      // Descending with no upper bound, the newest bucket known to be indexed is usually the first one
      // the walk meets: read it while the index is read. (Known buckets only ever gain items; the index is
      // still read, because a newer bucket may have been opened by another process.)
      let guess: number | undefined;
      if (query.descending)
        for (const bucket of known.indexed)
          if (bucket >= low && bucket <= high && (guess === undefined || bucket > guess)) guess = bucket;
      const index = this.reads.walkIndex(sequenceId, low, high, query.descending);
      let early: Promise<IteratorResult<number>> | undefined;
      let guessed: Promise<SequencedItem[]> | undefined;
      if (query.descending && this.reads.marked) {
        // Marked tables: rows in the guessed bucket and no `newer` mark on it mean that no newer bucket
        // holds items (see AppendProtocol.announce), so the index is needed only below it, if at all.
        // Knowing no bucket, the range's lowest is guessed, and the index read at once beside it: most
        // sequences keep every snapshot in their first bucket (10,000 versions by default), whose read
        // then answers alone, one round trip where the index and then the bucket were two.
        if (guess === undefined) {
          guess = low;
          early = index.next();
          early.catch(ignore);
        }
        const read = await this.reads.newestIn(sequenceId, guess, range, limit);
        if (read.items.length > 0 && read.newer === undefined) {
          if (early !== undefined) void early.then(() => index.return(undefined), ignore);
          known.indexed.add(guess); // its rows exist, so its index row was written first
          return this.selectBelow(sequenceId, known, range, limit, low, guess, read.items);
        }
        guessed = Promise.resolve(read.items);
      } else if (guess !== undefined) {
        guessed = this.collectRows(sequenceId, guess, range, limit, true);
        guessed.catch(ignore);
      }
      try {
        for (let step = await (early ?? index.next()); step.done !== true; step = await index.next()) {
          const bucket = step.value;
          known.indexed.add(bucket);
          if (out.length >= limit) break;
          if (bucket === guess && guessed !== undefined) {
            pushUpTo(out, await guessed, limit);
          } else await take(bucket);
        }
      } finally {
        // Ends the index walk however the loop ends (a limit reached, a read that failed).
        index.return(undefined).catch(ignore);
      }
      return out;
    }

    const known = this.known.get(sequenceId);
    const next = nextAfter(known);
    if (query.descending) {
      if (range.high < next) return this.readFrozen(sequenceId, known, range, limit, true);
      return this.readDownFromTail(sequenceId, known, range, limit);
    }
    // Ascending from beyond the bucket `next` lives in: the known buckets do not help, find the start
    // through the bucket index.
    if (this.bucketOf(range.low) > this.bucketOf(next))
      return this.selectByIndex(sequenceId, range, limit, query.descending);
    // The part of the range in known frozen buckets (exact counts, so every needed read starts at once),
    // and, concurrently when the limit is not met by them, the part from `next` on.
    const frozenCount = countIn(known, range);
    const frozen = this.readFrozen(sequenceId, known, range, limit, false);
    // A page of a long load is usually in the frozen buckets alone: their items are the answer as read.
    if (frozenCount >= limit || range.high < next) return frozen;
    const parts = [
      frozen,
      this.readUp(sequenceId, next, Math.max(range.low, next), range.high, limit - frozenCount),
    ];
    for (const items of await Promise.all(parts)) pushUpTo(out, items, limit);
    return out;
  }

  /**
   * Descending, the newest items in range being `newest`, read from bucket `top`: the older ones, while
   * fewer than `limit`, from the indexed buckets below `top`, newest first.
   */
  private async selectBelow(
    sequenceId: string,
    known: KnownSequence,
    range: PositionRange,
    limit: number,
    low: number,
    top: number,
    newest: readonly SequencedItem[],
  ): Promise<SequencedItem[]> {
    const out: SequencedItem[] = [];
    pushUpTo(out, newest, limit);
    if (out.length >= limit || top <= low) return out;
    for await (const bucket of this.reads.walkIndex(sequenceId, low, top - 1, true)) {
      known.indexed.add(bucket);
      pushUpTo(out, await this.collectRows(sequenceId, bucket, range, limit - out.length, true), limit);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Descending from a finite bound on a table whose items lie in the bucket of their position: bucket
   * `high` holds the newest positions in range, so it is read first; only when it holds fewer than
   * `limit` are the older buckets needed, found through the index. The index read starts together with
   * it unless `high` is known to be indexed (then it usually holds the answer alone). Nothing remembered
   * decides that a bucket is empty: `high` is always read, and every older bucket comes from the index.
   */
  private async selectDownFromBound(
    sequenceId: string,
    known: KnownSequence,
    range: PositionRange,
    limit: number,
    low: number,
    high: number,
    out: SequencedItem[],
  ): Promise<SequencedItem[]> {
    const index = this.reads.walkIndex(sequenceId, low, high - 1, true);
    const early = known.indexed.has(high) ? undefined : index.next();
    early?.catch(ignore);
    for (const item of await this.collectRows(sequenceId, high, range, limit, true)) out.push(item);
    if (out.length > 0) known.indexed.add(high); // its items exist, so its index row was written first
    if (out.length >= limit) {
      if (early === undefined) void index.return(undefined);
      return out;
    }
    for (let next = await (early ?? index.next()); next.done !== true; next = await index.next()) {
      known.indexed.add(next.value);
      for (const item of await this.collectRows(sequenceId, next.value, range, limit - out.length, true))
        out.push(item);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The items of the range held by known frozen buckets, read concurrently (at most `limit`). */
  private async readFrozen(
    sequenceId: string,
    known: KnownSequence,
    range: PositionRange,
    limit: number,
    descending: boolean,
  ): Promise<SequencedItem[]> {
    const buckets = descending ? [...known.frozen].reverse() : known.frozen;
    const reads: Promise<SequencedItem[]>[] = [];
    let count = 0;
    for (const frozen of buckets) {
      if (count >= limit) break;
      const from = Math.max(range.low, frozen.first);
      const to = Math.min(range.high, frozen.last);
      if (from > to) continue;
      reads.push(this.collectRows(sequenceId, frozen.bucket, range, limit - count, descending));
      count += to - from + 1;
    }
    const read = await Promise.all(reads);
    // One bucket's read (at most `limit` items) is the answer as it is, without a copy.
    const single = read.length === 1 && read[0]!.length <= limit;
    const out: SequencedItem[] = single ? read[0]! : [];
    if (!single) for (const items of read) pushUpTo(out, items, limit);
    // Frozen buckets never change, so fewer items than they are known to hold means the server lost data.
    if (out.length < Math.min(count, limit)) {
      this.known.forget(sequenceId);
      throw new KnowledgeContradicted();
    }
    return out;
  }

  /**
   * Ascending from `from` (at or after `next`, see known.ts), following bucket heads: positions from
   * `next` on are in bucket floor(next/B) up to its head; after that, only when it is frozen, in the
   * bucket of head + 1, and so on. Every bucket read also returns its head (a static column).
   */
  private async readUp(
    sequenceId: string,
    next: number,
    from: number,
    high: number,
    limit: number,
  ): Promise<SequencedItem[]> {
    const out: SequencedItem[] = [];
    const known = this.known.get(sequenceId);
    let bucket = this.bucketOf(next);
    let first = next; // the first item of `bucket` (see known.ts)
    while (out.length < limit) {
      const read = await this.readWithHead(sequenceId, bucket, first, from, high, limit - out.length, false);
      for (const item of read.items) out.push(item);
      if (read.head === undefined) break; // the bucket is empty: nothing from `next` on exists
      learnHead(known, this.table.bucketSize, bucket, read.head);
      // A head read apart from the rows, showing items the row read did not see yet: read them.
      if (!read.headFromRows && read.head >= from) continue;
      if (read.head < (bucket + 1) * this.table.bucketSize - 1) break; // not frozen: later buckets are empty
      if (read.head >= high) break;
      first = read.head + 1;
      from = Math.max(from, first);
      bucket = this.bucketOf(first);
    }
    return out;
  }

  /**
   * Descending from `range.high` >= next: the tail bucket first (with its head); if the tail is frozen
   * and the range goes past its head, the part above comes from the buckets after it, through the index.
   */
  private async readDownFromTail(
    sequenceId: string,
    known: KnownSequence,
    range: PositionRange,
    limit: number,
  ): Promise<SequencedItem[]> {
    const next = nextAfter(known);
    const bucket = this.bucketOf(next);
    const from = Math.max(range.low, next);
    let read = await this.readWithHead(sequenceId, bucket, next, from, range.high, limit, true);
    if (!read.headFromRows && read.head !== undefined && read.head >= from)
      read = await this.readWithHead(sequenceId, bucket, next, from, range.high, limit, true);
    const out: SequencedItem[] = [];
    if (read.head !== undefined) {
      learnHead(known, this.table.bucketSize, bucket, read.head);
      const frozen = read.head >= (bucket + 1) * this.table.bucketSize - 1;
      if (frozen && range.high > read.head) {
        const above = { ...range, low: Math.max(range.low, read.head + 1) };
        const aboveRange = { ...above, params: [above.low, above.high] };
        for (const item of await this.selectByIndex(sequenceId, aboveRange, limit, true)) out.push(item);
      }
    }
    pushUpTo(out, read.items, limit);
    // Below `next` only: the read above may just have frozen the tail bucket, which then joins the
    // known frozen buckets, and reading it again would return its items twice.
    const below = { ...range, high: next - 1, params: [range.low, next - 1] };
    if (out.length < limit && range.low < next)
      for (const item of await this.readFrozen(sequenceId, known, below, limit - out.length, true))
        out.push(item);
    return out;
  }

  /**
   * One bucket's items in [from, high] (paged) and its head. The head comes from the rows when there are
   * any (the same read, so consistent with them). With no rows: when the range starts at or before the
   * bucket's first item `first` (which is then in range), the bucket is empty; otherwise a separate head
   * read tells, started together with the rows when `from` is beyond every position known to exist.
   */
  private async readWithHead(
    sequenceId: string,
    bucket: number,
    first: number,
    from: number,
    high: number,
    limit: number,
    descending: boolean,
  ): Promise<{ items: SequencedItem[]; head: number | undefined; headFromRows: boolean }> {
    const startsAtFirst = from <= first && first <= high;
    const probe = !startsAtFirst && from > this.known.get(sequenceId).seen;
    const headRead = probe ? this.reads.headOf(sequenceId, bucket) : undefined;
    headRead?.catch(ignore);
    const { items, head } = await this.reads.rowsWithHead(sequenceId, bucket, from, high, limit, descending);
    if (items.length > 0 && head !== undefined) return { items, head, headFromRows: true };
    if (items.length === 0 && startsAtFirst) return { items, head: undefined, headFromRows: true };
    return { items, head: await (headRead ?? this.reads.headOf(sequenceId, bucket)), headFromRows: false };
  }

  /**
   * Reads through the bucket index, for ranges the known buckets say nothing about (integer tables):
   * correct on its own, whatever is known.
   */
  private async selectByIndex(
    sequenceId: string,
    range: PositionRange,
    limit: number,
    descending: boolean,
  ): Promise<SequencedItem[]> {
    const out: SequencedItem[] = [];
    const take = async (bucket: number): Promise<void> => {
      for (const item of await this.reads.rowsIn(sequenceId, bucket, range, descending, limit - out.length))
        out.push(item);
    };
    const low = this.bucketOf(range.low);
    const high = this.bucketOf(range.high);

    if (descending) {
      // Buckets hold ascending, disjoint runs of positions. A non-empty bucket below `low` holds the
      // runs below position `low · B` and perhaps some above it; the buckets under it hold nothing in range.
      let visited = 0;
      for await (const bucket of this.reads.walkIndex(sequenceId, 0, high, true)) {
        const before = out.length;
        await take(bucket);
        visited += 1;
        if (out.length >= limit) break;
        // The first bucket visited may be the one empty bucket (an opening that failed); any other is not.
        if (bucket < low && (out.length > before || visited > 1)) break;
      }
      return out;
    }

    // Ascending. A point read usually finds its item in the bucket of its position.
    if (range.low === range.high) {
      await take(low);
      if (out.length > 0) return out;
    }
    // The first item in range is in one of the two newest non-empty buckets at or below `low`, and at most
    // one indexed bucket is empty: read the three newest in parallel, then the later buckets in order.
    const start = await this.reads.indexedBuckets(sequenceId, 0, low, true, 3);
    const first = await Promise.all(
      start.reverse().map((bucket) => this.collectRows(sequenceId, bucket, range, limit, false)),
    );
    for (const items of first) pushUpTo(out, items, limit);
    if (out.length < limit && high > low) {
      for await (const bucket of this.reads.walkIndex(sequenceId, low + 1, high, false)) {
        await take(bucket);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  private collectRows(
    sequenceId: string,
    bucket: number,
    range: PositionRange,
    limit: number,
    descending: boolean,
  ): Promise<SequencedItem[]> {
    return this.reads.rowsIn(sequenceId, bucket, range, descending, limit);
  }
}

/** The query's bounds as CQL clauses; undefined when the range holds no possible position. */
export function positionRange(kind: PositionKind, q: NormalizedQuery): PositionRange | undefined {
  if (kind === 'integer') {
    // Integer positions: turn any bounds (fractional, exclusive, infinite) into inclusive integers.
    const low = Math.max(
      0,
      q.lower === -Infinity ? 0 : q.lowerInclusive ? Math.ceil(q.lower) : Math.floor(q.lower) + 1,
    );
    const high = Math.min(
      Number.MAX_SAFE_INTEGER,
      q.upper === Infinity ? Infinity : q.upperInclusive ? Math.floor(q.upper) : Math.ceil(q.upper) - 1,
    );
    if (low > high) return undefined;
    return { clauses: ' AND position >= ? AND position <= ?', params: [low, high], low, high };
  }
  let clauses = '';
  const params: number[] = [];
  if (q.lower !== -Infinity) {
    clauses += q.lowerInclusive ? ' AND position >= ?' : ' AND position > ?';
    params.push(q.lower);
  }
  if (q.upper !== Infinity) {
    clauses += q.upperInclusive ? ' AND position <= ?' : ' AND position < ?';
    params.push(q.upper);
  }
  if (q.lower > q.upper || (q.lower === q.upper && !(q.lowerInclusive && q.upperInclusive))) return undefined;
  return { clauses, params, low: Math.max(0, q.lower), high: Math.min(Number.MAX_SAFE_INTEGER, q.upper) };
}

/** How many items of the range the known frozen buckets hold (exactly: they are contiguous). */
function countIn(known: KnownSequence, range: PositionRange): number {
  let count = 0;
  for (const frozen of known.frozen) {
    const from = Math.max(range.low, frozen.first);
    const to = Math.min(range.high, frozen.last);
    if (from <= to) count += to - from + 1;
  }
  return count;
}

/** Appends items to `out` until it holds `limit`. */
function pushUpTo(out: SequencedItem[], items: readonly SequencedItem[], limit: number): void {
  for (const item of items) {
    if (out.length >= limit) return;
    out.push(item);
  }
}

/** The server holds less than what a strategy knows it holds: it lost data; read again, knowing nothing. */
class KnowledgeContradicted extends Error {}
