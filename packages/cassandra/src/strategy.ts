import {
  ActiveRecordStrategy,
  type ActiveRecordStrategyOptions,
  ConcurrencyError,
  type NormalizedQuery,
  OutcomeUnknownError,
  SequencedItem,
  StoreConnectionError,
  type TableOption,
  ValidationError,
  tableOption,
} from '@es/core';
import { errors, policies, types } from 'cassandra-driver';
import {
  type CassandraDatastore,
  type CqlSession,
  checkLayout,
  connectionError,
  defaultSession,
  neverSent,
  statementError,
} from './datastore.js';
import { KnownBuckets, type KnownSequence, nextAfter } from './known.js';
import { CqlTable, type CqlTableKind } from './tables.js';

export type CassandraActiveRecordStrategyOptions<
  I = SequencedItem,
  K extends CqlTableKind = CqlTableKind,
> = Omit<ActiveRecordStrategyOptions<I>, 'positionKind'> &
  /**
   * The table definition (`table`, or the seed's `activeRecordClass`): CqlIntegerSequencedItem,
   * CqlTimestampSequencedItem, CqlSnapshot, or one made from them with `withTableName`/`withBucketSize`.
   */
  TableOption<CqlTable<K>> & {
    /** Whose connection to use. Default: the datastore most recently connected by `setupConnection()`. */
    datastore?: CassandraDatastore;
    /** An explicit client, keyspace and settings (takes precedence over `datastore`). */
    session?: CqlSession;
    /** Largest append in bytes of data and topics. Default 12 MiB, below Cassandra's 16 MiB mutation limit. */
    maxBatchBytes?: number;
  };

type Statement = { query: string; params: unknown[] };
type Outcome = { applied: boolean; row: types.Row | null };

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

/** True when a failed conditional batch may nevertheless have been applied (a timeout, a lost connection). */
function outcomeMayBeUnknown(error: unknown): boolean {
  if (error instanceof errors.NoHostAvailableError || error instanceof errors.BusyConnectionError)
    return false;
  if (neverSent(error)) return false;
  if (error instanceof errors.ArgumentError || error instanceof TypeError) return false;
  if (error instanceof errors.ResponseError) return !REJECTED.has(error.code);
  return true;
}

const NEVER_RETRY = new policies.retry.FallthroughRetryPolicy();
const MAX_INT = 2_147_483_647;
const INDEX_PAGE = 100;
const toNumber = (value: unknown): number =>
  typeof value === 'number' ? value : (value as types.Long).toNumber();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ignore = (): void => undefined;

/** A position range as CQL: clauses on `position`, their values, and the buckets it may touch. */
interface PositionRange {
  readonly clauses: string;
  readonly params: number[];
  /** Lowest and highest position in the range (for integer tables: inclusive integers). */
  readonly low: number;
  readonly high: number;
}

/**
 * The seed's CassandraActiveRecordStrategy, with an atomic, optimistic append that holds under
 * concurrent writers. How (see docs/cassandra.md for the proof sketch):
 *
 * Integer tables. A sequence is split into partitions (sequence_id, bucket). An append of positions
 * f..l goes, whole, into bucket t = floor(f / B) (the first position decides; the batch may run past the
 * bucket's range, which keeps it one partition and so atomic). It is one conditional batch:
 * `UPDATE ... SET head = l IF head = f - 1` plus a plain INSERT per item. When bucket t is still empty,
 * the item f - 1 is in an earlier bucket: the writer checks (SERIAL read) that that bucket's head is
 * f - 1, which freezes it forever, and opens t with `INSERT ... IF NOT EXISTS`. Positions stay contiguous
 * from 0 and exactly one of several writers expecting the same head wins.
 *
 * Timestamp and snapshot tables. Positions have gaps, so each row is `INSERT ... IF NOT EXISTS` in one
 * conditional batch on the partition of bucket floor(position / B); a batch must lie in one bucket.
 *
 * A bucket index table (`<table>_buckets`) lists each sequence's buckets, written before a bucket is
 * first used, so reads walk only the buckets that exist.
 *
 * It is an AggregateRecorder: no table keeps a notification log yet. The table's kind `K` is in the
 * type so that a later feed can make the strategy over integer tables an ApplicationRecorder (log
 * methods typed `this: CassandraActiveRecordStrategy<I, 'integer'>`, as @es/sql does for its tables).
 */
export class CassandraActiveRecordStrategy<
  I = SequencedItem,
  K extends CqlTableKind = CqlTableKind,
> extends ActiveRecordStrategy<I> {
  readonly table: CqlTable<K>;
  /** True for integer tables: an append must start exactly one past the sequence's last position. */
  readonly contiguous: boolean;
  readonly maxBatchBytes: number;
  // Private (#): a session's client holds the password, and strategies get logged.
  readonly #session: CqlSession | undefined;
  private readonly datastore: CassandraDatastore | undefined;
  private readonly layoutChecks = new WeakMap<object, Promise<void>>();
  /** Facts about buckets that can never become false (see known.ts): they save round trips. */
  private readonly known = new KnownBuckets();

  constructor(options: CassandraActiveRecordStrategyOptions<I, K>) {
    const {
      table: _table,
      activeRecordClass: _activeRecordClass,
      datastore,
      session,
      maxBatchBytes = 12 * 1024 * 1024,
      ...rest
    } = options;
    const table = tableOption(
      options,
      (value): value is CqlTable<K> => value instanceof CqlTable,
      'CqlIntegerSequencedItem',
    );
    super({ ...rest, positionKind: table.positionKind });
    if (!Number.isSafeInteger(maxBatchBytes) || maxBatchBytes < 1) {
      throw new ValidationError('maxBatchBytes must be a positive integer', 'maxBatchBytes');
    }
    this.table = table;
    this.contiguous = table.contiguous;
    this.maxBatchBytes = maxBatchBytes;
    this.#session = session;
    this.datastore = datastore;
  }

  // --- writes ---

  protected async insert(items: readonly SequencedItem[]): Promise<void> {
    let bytes = 0;
    for (const item of items)
      bytes += Buffer.byteLength(item.data, 'utf8') + Buffer.byteLength(item.topic, 'utf8');
    if (bytes > this.maxBatchBytes) {
      throw new ValidationError(
        `a batch holds at most ${this.maxBatchBytes} bytes of data and topics, got ${bytes}`,
        'items',
      );
    }
    const session = await this.ready();
    if (this.contiguous) await this.appendContiguous(session, items);
    else await this.appendSparse(session, items);
  }

  private async appendContiguous(session: CqlSession, items: readonly SequencedItem[]): Promise<void> {
    const { sequenceId, position: first } = items[0]!;
    const last = items[items.length - 1]!.position;
    const bucket = this.table.bucketOf(first);
    const commit = types.Uuid.random();
    const t = this.tableRef(session);
    const rows = items.map((item) => ({
      query: `INSERT INTO ${t} (sequence_id, bucket, position, topic, data, commit_id) VALUES (?, ?, ?, ?, ?, ?)`,
      params: [sequenceId, bucket, item.position, item.topic, item.data, commit],
    }));
    if (first > 0) {
      const advance = {
        query: `UPDATE ${t} SET head = ?, last_commit = ? WHERE sequence_id = ? AND bucket = ? IF head = ?`,
        params: [last, commit, sequenceId, bucket, first - 1],
      };
      const outcome = await this.commit(session, [advance, ...rows], sequenceId, bucket, first, commit);
      if (outcome.applied) {
        this.learnHead(sequenceId, bucket, last);
        return;
      }
      const head = outcome.row?.get('head') as types.Long | null | undefined;
      if (head != null) {
        this.learnHead(sequenceId, bucket, toNumber(head));
        throw this.conflict(sequenceId, first, toNumber(head));
      }
      // Bucket t is empty: f - 1 must be the head of the last bucket before it, which is then frozen. The
      // server says so (a SERIAL read), never what this strategy remembers: a bucket it saw frozen is gone
      // if the server lost data, and opening t on that memory would leave a gap. (Once per bucket.)
      const previous = bucket === 0 ? undefined : await this.headBefore(session, sequenceId, bucket);
      if (previous !== first - 1) {
        this.known.forget(sequenceId);
        throw this.conflict(sequenceId, first, previous);
      }
    }
    // Listed again even if remembered as listed (the server may have lost the row); once per bucket.
    await this.indexBucket(session, sequenceId, bucket, true);
    const open = {
      query: `INSERT INTO ${t} (sequence_id, bucket, head, last_commit) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
      params: [sequenceId, bucket, last, commit],
    };
    const outcome = await this.commit(session, [open, ...rows], sequenceId, bucket, first, commit);
    if (!outcome.applied) {
      const head = outcome.row?.get('head') as types.Long | null | undefined;
      throw this.conflict(sequenceId, first, head == null ? undefined : toNumber(head));
    }
    // The sequence was empty although this strategy had seen items in it: the server lost them.
    if (first === 0 && this.known.get(sequenceId).seen >= 0) this.known.forget(sequenceId);
    this.learnHead(sequenceId, bucket, last);
  }

  private async appendSparse(session: CqlSession, items: readonly SequencedItem[]): Promise<void> {
    const { sequenceId, position: first } = items[0]!;
    const last = items[items.length - 1]!.position;
    const bucket = this.table.bucketOf(first);
    if (this.table.bucketOf(last) !== bucket) {
      const unit = this.table.kind === 'timestamp' ? ' ms' : '';
      throw new ValidationError(
        `a batch must lie in one bucket of ${this.table.bucketSize}${unit} (one partition, so that it is atomic): positions ${first} and ${last} are in buckets ${bucket} and ${this.table.bucketOf(last)}`,
        'position',
      );
    }
    const commit = types.Uuid.random();
    const t = this.tableRef(session);
    await this.indexBucket(session, sequenceId, bucket);
    const rows = items.map((item) => ({
      query: `INSERT INTO ${t} (sequence_id, bucket, position, topic, data, commit_id) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      params: [sequenceId, bucket, item.position, item.topic, item.data, commit],
    }));
    const outcome = await this.commit(session, rows, sequenceId, bucket, first, commit);
    if (!outcome.applied) {
      const taken = outcome.row?.get('position') as types.Long | number | null | undefined;
      const position = taken == null ? first : toNumber(taken);
      throw new ConcurrencyError(
        `position ${position} of sequence ${sequenceId} is already taken`,
        sequenceId,
        position,
      );
    }
  }

  /**
   * Runs one conditional batch. A failure that may hide a success (a timeout, a dropped connection) is
   * resolved by a SERIAL read of the first row's commit id, never by sending the batch again.
   */
  private async commit(
    session: CqlSession,
    statements: Statement[],
    sequenceId: string,
    bucket: number,
    first: number,
    commit: types.Uuid,
  ): Promise<Outcome> {
    const { settings } = session;
    const codes = settings.consistencyCodes;
    try {
      const result = await session.client.batch(statements, {
        prepare: true,
        logged: true,
        consistency: codes.write,
        serialConsistency: codes.serial,
        readTimeout: settings.requestTimeoutMs,
        isIdempotent: false,
        retry: NEVER_RETRY,
      });
      return { applied: result.wasApplied(), row: result.first() };
    } catch (error) {
      if (!outcomeMayBeUnknown(error)) throw await statementError(error, session, this.table);
      const stored = await this.committedAt(session, sequenceId, bucket, first, commit, error);
      if (stored === 'ours') return { applied: true, row: null };
      if (stored === 'theirs') {
        throw new ConcurrencyError(
          `position ${first} of sequence ${sequenceId} is already taken`,
          sequenceId,
          first,
          { cause: error },
        );
      }
      throw new StoreConnectionError(
        `the append at position ${first} of sequence ${sequenceId} failed (${explain(error)}) and a SERIAL read shows it was not applied: nothing was written, it is safe to retry`,
        { cause: error },
      );
    }
  }

  /**
   * Whose commit holds the row at `first`: ours, another writer's, or nobody's. A SERIAL read completes
   * any Paxos round still in flight, so its answer is final. Unresolvable: OutcomeUnknownError.
   */
  private async committedAt(
    session: CqlSession,
    sequenceId: string,
    bucket: number,
    first: number,
    commit: types.Uuid,
    cause: unknown,
  ): Promise<'ours' | 'theirs' | 'none'> {
    const { settings } = session;
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await sleep(200 * attempt);
      try {
        const result = await session.client.execute(
          `SELECT commit_id FROM ${this.tableRef(session)} WHERE sequence_id = ? AND bucket = ? AND position = ?`,
          [sequenceId, bucket, first],
          {
            prepare: true,
            consistency: settings.consistencyCodes.serial,
            readTimeout: settings.requestTimeoutMs,
            isIdempotent: true,
          },
        );
        const found = result.first()?.get('commit_id') as types.Uuid | null | undefined;
        if (found == null) return 'none';
        return found.equals(commit) ? 'ours' : 'theirs';
      } catch (error) {
        lastError = error;
      }
    }
    throw new OutcomeUnknownError(
      `the append at position ${first} of sequence ${sequenceId} (commit ${commit.toString()}) may or may not have been applied: ${explain(cause)}; resolving it with a SERIAL read failed too (${explain(lastError)}). Read the sequence before retrying.`,
      { cause },
    );
  }

  /** The head of the last non-empty bucket before `bucket` (SERIAL), or undefined when there is none. */
  private async headBefore(
    session: CqlSession,
    sequenceId: string,
    bucket: number,
  ): Promise<number | undefined> {
    // At most one indexed bucket is empty (the newest, when its opening failed), so two candidates suffice.
    const candidates = await this.indexedBuckets(session, sequenceId, 0, bucket - 1, true, 2);
    for (const candidate of candidates) {
      const result = await this.run(
        session,
        `SELECT head FROM ${this.tableRef(session)} WHERE sequence_id = ? AND bucket = ? LIMIT 1`,
        [sequenceId, candidate],
        session.settings.consistencyCodes.serial,
      );
      const head = result.first()?.get('head') as types.Long | null | undefined;
      if (head != null) return toNumber(head);
    }
    return undefined;
  }

  /** Lists a bucket in the index, unless it is known to be there already (index rows are never deleted). */
  private async indexBucket(
    session: CqlSession,
    sequenceId: string,
    bucket: number,
    again = false,
  ): Promise<void> {
    const known = this.known.get(sequenceId);
    if (known.indexed.has(bucket) && !again) return;
    await this.run(
      session,
      `INSERT INTO ${this.indexRef(session)} (sequence_id, bucket) VALUES (?, ?)`,
      [sequenceId, bucket],
      session.settings.consistencyCodes.write,
    );
    known.indexed.add(bucket);
  }

  /**
   * Records a head read from bucket `bucket` (its value at some moment; heads only grow). Items 0..head
   * exist for good. When the bucket is the one `next` lives in (see known.ts) and the head has reached
   * the end of its range, the bucket is frozen: it holds next..head forever.
   */
  private learnHead(sequenceId: string, bucket: number, head: number): void {
    const known = this.known.get(sequenceId);
    if (head > known.seen) known.seen = head;
    const next = nextAfter(known);
    if (
      head >= next &&
      this.table.bucketOf(next) === bucket &&
      head >= (bucket + 1) * this.table.bucketSize - 1
    ) {
      known.frozen.push({ bucket, first: next, last: head });
    }
  }

  private conflict(sequenceId: string, first: number, head: number | undefined): ConcurrencyError {
    const why =
      head === undefined
        ? `the sequence has no item at position ${first - 1}`
        : head >= first
          ? `the position is already taken (the sequence ends at ${head})`
          : `the sequence ends at ${head}`;
    return new ConcurrencyError(
      `cannot append at position ${first} of sequence ${sequenceId}: ${why}; integer sequences are contiguous from 0`,
      sequenceId,
      first,
    );
  }

  // --- reads ---

  protected async select(sequenceId: string, query: NormalizedQuery): Promise<SequencedItem[]> {
    try {
      return await this.selectKnowing(sequenceId, query);
    } catch (error) {
      if (!(error instanceof KnowledgeContradicted)) throw error;
      return this.selectKnowing(sequenceId, query); // knowing nothing now, it cannot be contradicted again
    }
  }

  private async selectKnowing(sequenceId: string, query: NormalizedQuery): Promise<SequencedItem[]> {
    const session = await this.ready();
    const range = this.positionRange(query);
    if (range === undefined) return [];
    const limit = query.limit ?? Infinity;
    const out: SequencedItem[] = [];
    const take = async (bucket: number): Promise<void> => {
      for await (const item of this.rowsIn(
        session,
        sequenceId,
        bucket,
        range,
        query.descending,
        limit - out.length,
      ))
        out.push(item);
    };
    const low = this.table.bucketOf(range.low);
    const high = this.table.bucketOf(range.high);

    if (!this.contiguous) {
      // Items lie in the bucket of their position: walk the indexed buckets of the range.
      if (low === high) {
        await take(low);
        return out;
      }
      const known = this.known.get(sequenceId);
      if (query.descending && query.upper !== Infinity)
        return this.selectDownFromBound(session, sequenceId, known, range, limit, low, high, out);
      // Descending with no upper bound, the newest bucket known to be indexed is usually the first one
      // the walk meets: read it while the index is read. (Known buckets only ever gain items; the index is
      // still read, because a newer bucket may have been opened by another process.)
      let guess: number | undefined;
      if (query.descending)
        for (const bucket of known.indexed)
          if (bucket >= low && bucket <= high && (guess === undefined || bucket > guess)) guess = bucket;
      const guessed =
        guess === undefined ? undefined : this.collectRows(session, sequenceId, guess, range, limit, true);
      guessed?.catch(ignore);
      for await (const bucket of this.walkIndex(session, sequenceId, low, high, query.descending)) {
        known.indexed.add(bucket);
        if (out.length >= limit) break;
        if (bucket === guess && guessed !== undefined) {
          pushUpTo(out, await guessed, limit);
        } else await take(bucket);
      }
      return out;
    }

    const known = this.known.get(sequenceId);
    const next = nextAfter(known);
    if (query.descending) {
      if (range.high < next) return this.readFrozen(session, sequenceId, known, range, limit, true);
      return this.readDownFromTail(session, sequenceId, known, range, limit);
    }
    // Ascending from beyond the bucket `next` lives in: the known buckets do not help, find the start
    // through the bucket index.
    if (this.table.bucketOf(range.low) > this.table.bucketOf(next))
      return this.selectByIndex(session, sequenceId, range, limit, query.descending);
    // The part of the range in known frozen buckets (exact counts, so every needed read starts at once),
    // and, concurrently when the limit is not met by them, the part from `next` on.
    const frozenCount = countIn(known, range);
    const parts = [this.readFrozen(session, sequenceId, known, range, limit, false)];
    if (frozenCount < limit && range.high >= next)
      parts.push(
        this.readUp(session, sequenceId, next, Math.max(range.low, next), range.high, limit - frozenCount),
      );
    for (const items of await Promise.all(parts)) pushUpTo(out, items, limit);
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
    session: CqlSession,
    sequenceId: string,
    known: KnownSequence,
    range: PositionRange,
    limit: number,
    low: number,
    high: number,
    out: SequencedItem[],
  ): Promise<SequencedItem[]> {
    const index = this.walkIndex(session, sequenceId, low, high - 1, true);
    const early = known.indexed.has(high) ? undefined : index.next();
    early?.catch(ignore);
    for (const item of await this.collectRows(session, sequenceId, high, range, limit, true)) out.push(item);
    if (out.length > 0) known.indexed.add(high); // its items exist, so its index row was written first
    if (out.length >= limit) {
      if (early === undefined) void index.return(undefined);
      return out;
    }
    for (let next = await (early ?? index.next()); next.done !== true; next = await index.next()) {
      known.indexed.add(next.value);
      for (const item of await this.collectRows(
        session,
        sequenceId,
        next.value,
        range,
        limit - out.length,
        true,
      ))
        out.push(item);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The items of the range held by known frozen buckets, read concurrently (at most `limit`). */
  private async readFrozen(
    session: CqlSession,
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
      reads.push(this.collectRows(session, sequenceId, frozen.bucket, range, limit - count, descending));
      count += to - from + 1;
    }
    const out: SequencedItem[] = [];
    for (const items of await Promise.all(reads)) pushUpTo(out, items, limit);
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
    session: CqlSession,
    sequenceId: string,
    next: number,
    from: number,
    high: number,
    limit: number,
  ): Promise<SequencedItem[]> {
    const out: SequencedItem[] = [];
    let bucket = this.table.bucketOf(next);
    let first = next; // the first item of `bucket` (see known.ts)
    while (out.length < limit) {
      const read = await this.readWithHead(
        session,
        sequenceId,
        bucket,
        first,
        from,
        high,
        limit - out.length,
        false,
      );
      for (const item of read.items) out.push(item);
      if (read.head === undefined) break; // the bucket is empty: nothing from `next` on exists
      this.learnHead(sequenceId, bucket, read.head);
      // A head read apart from the rows, showing items the row read did not see yet: read them.
      if (!read.headFromRows && read.head >= from) continue;
      if (read.head < (bucket + 1) * this.table.bucketSize - 1) break; // not frozen: later buckets are empty
      if (read.head >= high) break;
      first = read.head + 1;
      from = Math.max(from, first);
      bucket = this.table.bucketOf(first);
    }
    return out;
  }

  /**
   * Descending from `range.high` >= next: the tail bucket first (with its head); if the tail is frozen
   * and the range goes past its head, the part above comes from the buckets after it, through the index.
   */
  private async readDownFromTail(
    session: CqlSession,
    sequenceId: string,
    known: KnownSequence,
    range: PositionRange,
    limit: number,
  ): Promise<SequencedItem[]> {
    const next = nextAfter(known);
    const bucket = this.table.bucketOf(next);
    const from = Math.max(range.low, next);
    let read = await this.readWithHead(session, sequenceId, bucket, next, from, range.high, limit, true);
    if (!read.headFromRows && read.head !== undefined && read.head >= from)
      read = await this.readWithHead(session, sequenceId, bucket, next, from, range.high, limit, true);
    const out: SequencedItem[] = [];
    if (read.head !== undefined) {
      this.learnHead(sequenceId, bucket, read.head);
      const frozen = read.head >= (bucket + 1) * this.table.bucketSize - 1;
      if (frozen && range.high > read.head) {
        const above = { ...range, low: Math.max(range.low, read.head + 1) };
        const aboveRange = { ...above, params: [above.low, above.high] };
        for (const item of await this.selectByIndex(session, sequenceId, aboveRange, limit, true))
          out.push(item);
      }
    }
    pushUpTo(out, read.items, limit);
    if (out.length < limit && range.low < next)
      for (const item of await this.readFrozen(session, sequenceId, known, range, limit - out.length, true))
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
    session: CqlSession,
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
    const headRead = probe ? this.headOf(session, sequenceId, bucket) : undefined;
    headRead?.catch(ignore);
    const cql = `SELECT position, topic, data, head FROM ${this.tableRef(session)} WHERE sequence_id = ? AND bucket = ? AND position >= ? AND position <= ? ORDER BY position ${descending ? 'DESC' : 'ASC'} LIMIT ?`;
    const items: SequencedItem[] = [];
    let head: number | undefined;
    for await (const row of this.pages(
      session,
      cql,
      [sequenceId, bucket, from, high, Math.min(limit, MAX_INT)],
      Math.min(limit, session.settings.fetchSize),
    )) {
      const h = row.get('head') as types.Long | null;
      if (h != null) head = Math.max(head ?? -1, toNumber(h));
      items.push(
        new SequencedItem(
          sequenceId,
          toNumber(row.get('position')),
          row.get('topic') as string,
          row.get('data') as string,
        ),
      );
    }
    if (items.length > 0 && head !== undefined) return { items, head, headFromRows: true };
    if (items.length === 0 && startsAtFirst) return { items, head: undefined, headFromRows: true };
    return { items, head: await (headRead ?? this.headOf(session, sequenceId, bucket)), headFromRows: false };
  }

  /** A bucket's head (its static column), or undefined when the bucket is empty. */
  private async headOf(session: CqlSession, sequenceId: string, bucket: number): Promise<number | undefined> {
    const result = await this.run(
      session,
      `SELECT DISTINCT sequence_id, bucket, head FROM ${this.tableRef(session)} WHERE sequence_id = ? AND bucket = ?`,
      [sequenceId, bucket],
      session.settings.consistencyCodes.read,
    );
    const head = result.first()?.get('head') as types.Long | null | undefined;
    return head == null ? undefined : toNumber(head);
  }

  /**
   * Reads through the bucket index, for ranges the known buckets say nothing about (integer tables):
   * correct on its own, whatever is known.
   */
  private async selectByIndex(
    session: CqlSession,
    sequenceId: string,
    range: PositionRange,
    limit: number,
    descending: boolean,
  ): Promise<SequencedItem[]> {
    const out: SequencedItem[] = [];
    const take = async (bucket: number): Promise<void> => {
      for await (const item of this.rowsIn(
        session,
        sequenceId,
        bucket,
        range,
        descending,
        limit - out.length,
      ))
        out.push(item);
    };
    const low = this.table.bucketOf(range.low);
    const high = this.table.bucketOf(range.high);

    if (descending) {
      // Buckets hold ascending, disjoint runs of positions. A non-empty bucket below `low` holds the
      // runs below position `low · B` and perhaps some above it; the buckets under it hold nothing in range.
      let visited = 0;
      for await (const bucket of this.walkIndex(session, sequenceId, 0, high, true)) {
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
    const start = await this.indexedBuckets(session, sequenceId, 0, low, true, 3);
    const first = await Promise.all(
      start.reverse().map((bucket) => this.collectRows(session, sequenceId, bucket, range, limit, false)),
    );
    for (const items of first) pushUpTo(out, items, limit);
    if (out.length < limit && high > low) {
      for await (const bucket of this.walkIndex(session, sequenceId, low + 1, high, false)) {
        await take(bucket);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  protected async selectSequenceIds(): Promise<string[]> {
    const session = await this.ready();
    const ids = new Set<string>();
    for await (const row of this.pages(
      session,
      `SELECT DISTINCT sequence_id, bucket FROM ${this.tableRef(session)}`,
      [],
      session.settings.fetchSize,
    )) {
      ids.add(row.get('sequence_id') as string);
    }
    return [...ids];
  }

  /** The query's bounds as CQL clauses; undefined when the range holds no possible position. */
  private positionRange(q: NormalizedQuery): PositionRange | undefined {
    if (this.positionKind === 'integer') {
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
    if (q.lower > q.upper || (q.lower === q.upper && !(q.lowerInclusive && q.upperInclusive)))
      return undefined;
    return { clauses, params, low: Math.max(0, q.lower), high: Math.min(Number.MAX_SAFE_INTEGER, q.upper) };
  }

  /** The items of one bucket in range, in order, paged. */
  private async *rowsIn(
    session: CqlSession,
    sequenceId: string,
    bucket: number,
    range: PositionRange,
    descending: boolean,
    limit: number,
  ): AsyncGenerator<SequencedItem> {
    if (limit <= 0) return;
    const cql = `SELECT position, topic, data FROM ${this.tableRef(session)} WHERE sequence_id = ? AND bucket = ?${range.clauses} ORDER BY position ${descending ? 'DESC' : 'ASC'} LIMIT ?`;
    const fetchSize = Math.min(limit, session.settings.fetchSize);
    for await (const row of this.pages(
      session,
      cql,
      [sequenceId, bucket, ...range.params, Math.min(limit, MAX_INT)],
      fetchSize,
    )) {
      yield new SequencedItem(
        sequenceId,
        toNumber(row.get('position')),
        row.get('topic') as string,
        row.get('data') as string,
      );
    }
  }

  private async collectRows(
    session: CqlSession,
    sequenceId: string,
    bucket: number,
    range: PositionRange,
    limit: number,
    descending: boolean,
  ): Promise<SequencedItem[]> {
    const out: SequencedItem[] = [];
    for await (const item of this.rowsIn(session, sequenceId, bucket, range, descending, limit))
      out.push(item);
    return out;
  }

  /** The indexed buckets of a sequence in [from, to], in order, paged. */
  private async *walkIndex(
    session: CqlSession,
    sequenceId: string,
    from: number,
    to: number,
    descending: boolean,
  ): AsyncGenerator<number> {
    const cql = `SELECT bucket FROM ${this.indexRef(session)} WHERE sequence_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket ${descending ? 'DESC' : 'ASC'}`;
    for await (const row of this.pages(session, cql, [sequenceId, from, to], INDEX_PAGE))
      yield toNumber(row.get('bucket'));
  }

  private async indexedBuckets(
    session: CqlSession,
    sequenceId: string,
    from: number,
    to: number,
    descending: boolean,
    limit: number,
  ): Promise<number[]> {
    const cql = `SELECT bucket FROM ${this.indexRef(session)} WHERE sequence_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket ${descending ? 'DESC' : 'ASC'} LIMIT ?`;
    const result = await this.run(
      session,
      cql,
      [sequenceId, from, to, limit],
      session.settings.consistencyCodes.read,
    );
    return result.rows.map((row) => toNumber(row.get('bucket')));
  }

  // --- plumbing ---

  /** The session to use, after checking once per client that the table exists with this layout. */
  private async ready(): Promise<CqlSession> {
    const session = this.#session ?? this.datastore?.session ?? defaultSession();
    let check = this.layoutChecks.get(session.client);
    if (check === undefined) {
      check = checkLayout(session, this.table).catch((error: unknown) => {
        this.layoutChecks.delete(session.client);
        throw connectionError(error, session.settings);
      });
      this.layoutChecks.set(session.client, check);
    }
    await check;
    return session;
  }

  private tableRef(session: CqlSession): string {
    return `${session.keyspace}.${this.table.tableName}`;
  }

  private indexRef(session: CqlSession): string {
    return `${session.keyspace}.${this.table.indexTableName}`;
  }

  /** One idempotent statement (a read, or the index's upsert). */
  private async run(
    session: CqlSession,
    cql: string,
    params: unknown[],
    consistency: number,
    extra: { fetchSize?: number; pageState?: string } = {},
  ): Promise<types.ResultSet> {
    try {
      return await session.client.execute(cql, params, {
        prepare: true,
        consistency,
        readTimeout: session.settings.requestTimeoutMs,
        isIdempotent: true,
        ...extra,
      });
    } catch (error) {
      throw await statementError(error, session, this.table);
    }
  }

  /** All rows of a read, `fetchSize` at a time. */
  private async *pages(
    session: CqlSession,
    cql: string,
    params: unknown[],
    fetchSize: number,
  ): AsyncGenerator<types.Row> {
    let pageState: string | undefined;
    do {
      const result = await this.run(session, cql, params, session.settings.consistencyCodes.read, {
        fetchSize,
        ...(pageState ? { pageState } : {}),
      });
      yield* result.rows;
      pageState = result.pageState ?? undefined;
    } while (pageState !== undefined);
  }
}

/** The server holds less than what a strategy knows it holds: it lost data; read again, knowing nothing. */
class KnowledgeContradicted extends Error {}

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

function explain(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
}

/** Appends items to `out` until it holds `limit`. */
function pushUpTo(out: SequencedItem[], items: readonly SequencedItem[], limit: number): void {
  for (const item of items) {
    if (out.length >= limit) return;
    out.push(item);
  }
}
