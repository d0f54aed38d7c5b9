import {
  ConcurrencyError,
  OutcomeUnknownError,
  type SequencedItem,
  StoreConnectionError,
  ValidationError,
} from '@es/core';
import { conflictError } from '@es/core/backend';
import { types } from 'cassandra-driver';
import { type BoundTable, toNumber } from './bound-table.js';
import { statementError } from './datastore.js';
import { type KnownBuckets, learnHead } from './known.js';
import { NEVER_RETRY, explain, outcomeMayBeUnknown, sleep } from './outcome.js';

type Statement = { query: string; params: unknown[] };

/** Older snapshot buckets marked `newer` at once, before a first write into a new bucket. */
const MARKS_AT_ONCE = 16;
type Outcome = { applied: boolean; row: types.Row | null };

/**
 * The append protocol of one bound table (see docs/cassandra.md for the proof sketch).
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
 * Every bucket is listed in the bucket index before it is first used, so reads walk only the buckets
 * that exist. `commit` is the append's commit id (a fresh UUID per attempt): it is written on every row
 * and is how an unknown outcome is resolved.
 */
export class AppendProtocol {
  private get table() {
    return this.bound.table;
  }

  /**
   * `deadline` (ms, this process's clock): no conditional batch is sent after it. A feed's writer sets
   * it (its hint says when it expires, so that the sequencer knows when an absent append can no longer
   * land: see docs/cassandra.md, "The feed").
   */
  constructor(
    private readonly bound: BoundTable,
    private readonly known: KnownBuckets,
    private readonly deadline = Infinity,
  ) {}

  async append(items: readonly SequencedItem[], commit: types.Uuid): Promise<void> {
    if (this.table.contiguous) await this.appendContiguous(items, commit);
    else await this.appendSparse(items, commit);
  }

  private async appendContiguous(items: readonly SequencedItem[], commit: types.Uuid): Promise<void> {
    const { sequenceId, position: first } = items[0]!;
    const last = items[items.length - 1]!.position;
    const bucket = this.table.bucketOf(first);
    const t = this.bound.ref;
    // One string for every row (not a template per row).
    const insert = `INSERT INTO ${t} (sequence_id, bucket, position, topic, data, commit_id) VALUES (?, ?, ?, ?, ?, ?)`;
    const rows = items.map((item) => ({
      query: insert,
      params: [sequenceId, bucket, item.position, item.topic, item.data, commit],
    }));
    const known = this.known.get(sequenceId);
    if (first > 0) {
      const advance = {
        query: `UPDATE ${t} SET head = ?, last_commit = ? WHERE sequence_id = ? AND bucket = ? IF head = ?`,
        params: [last, commit, sequenceId, bucket, first - 1],
      };
      const outcome = await this.commit([advance, ...rows], sequenceId, bucket, first, commit);
      if (outcome.applied) {
        learnHead(known, this.table.bucketSize, bucket, last);
        return;
      }
      const head = outcome.row?.get('head') as types.Long | null | undefined;
      if (head != null) {
        learnHead(known, this.table.bucketSize, bucket, toNumber(head));
        throw conflict(sequenceId, first, toNumber(head));
      }
      // Bucket t is empty: f - 1 must be the head of the last bucket before it, which is then frozen. The
      // server says so (a SERIAL read), never what this strategy remembers: a bucket it saw frozen is gone
      // if the server lost data, and opening t on that memory would leave a gap. (Once per bucket.)
      const previous = bucket === 0 ? undefined : await this.headBefore(sequenceId, bucket);
      if (previous !== first - 1) {
        this.known.forget(sequenceId);
        throw conflict(sequenceId, first, previous);
      }
    }
    // Listed again even if remembered as listed (the server may have lost the row); once per bucket.
    await this.indexBucket(sequenceId, bucket, true);
    const open = {
      query: `INSERT INTO ${t} (sequence_id, bucket, head, last_commit) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
      params: [sequenceId, bucket, last, commit],
    };
    const outcome = await this.commit([open, ...rows], sequenceId, bucket, first, commit);
    if (!outcome.applied) {
      const head = outcome.row?.get('head') as types.Long | null | undefined;
      throw conflict(sequenceId, first, head == null ? undefined : toNumber(head));
    }
    // The sequence was empty although this strategy had seen items in it: the server lost them.
    if (first === 0 && known.seen >= 0) this.known.forget(sequenceId);
    learnHead(this.known.get(sequenceId), this.table.bucketSize, bucket, last);
  }

  private async appendSparse(items: readonly SequencedItem[], commit: types.Uuid): Promise<void> {
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
    const t = this.bound.ref;
    await this.indexBucket(sequenceId, bucket);
    const insert = `INSERT INTO ${t} (sequence_id, bucket, position, topic, data, commit_id) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`;
    const rows: Statement[] = items.map((item) => ({
      query: insert,
      params: [sequenceId, bucket, item.position, item.topic, item.data, commit],
    }));
    if (this.bound.marked) {
      // A newer bucket was listed before this one: the bucket is marked with its rows, atomically.
      const above = await this.announce(sequenceId, bucket);
      if (above > bucket) {
        rows.push(this.bound.markStatement(sequenceId, bucket, above));
      }
    }
    const outcome = await this.commit(rows, sequenceId, bucket, first, commit);
    if (!outcome.applied) {
      const taken = outcome.row?.get('position') as types.Long | number | null | undefined;
      const position = taken == null ? first : toNumber(taken);
      throw conflictError(
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
    statements: Statement[],
    sequenceId: string,
    bucket: number,
    first: number,
    commit: types.Uuid,
  ): Promise<Outcome> {
    const { settings } = this.bound;
    const codes = settings.consistencyCodes;
    if (Date.now() > this.deadline) {
      throw new StoreConnectionError(
        `the append at position ${first} of sequence ${sequenceId} was not sent: its feed hint expired (the steps before it took over ${settings.requestTimeoutMs} ms). Nothing was written; it is safe to retry`,
      );
    }
    try {
      const result = await this.bound.session.client.batch(statements, {
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
      if (!outcomeMayBeUnknown(error))
        throw await statementError(error, this.bound.session, this.bound.table);
      const stored = await this.committedAt(sequenceId, bucket, first, commit, error);
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
    sequenceId: string,
    bucket: number,
    first: number,
    commit: types.Uuid,
    cause: unknown,
  ): Promise<'ours' | 'theirs' | 'none'> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await sleep(200 * attempt);
      try {
        const found = await commitAt(this.bound, sequenceId, bucket, first);
        if (found === undefined) return 'none';
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
  private async headBefore(sequenceId: string, bucket: number): Promise<number | undefined> {
    // At most one indexed bucket is empty (the newest, when its opening failed), so two candidates suffice.
    const candidates = await this.bound.indexedBuckets(sequenceId, 0, bucket - 1, true, 2);
    for (const candidate of candidates) {
      const result = await this.bound.run(
        `SELECT head FROM ${this.bound.ref} WHERE sequence_id = ? AND bucket = ? LIMIT 1`,
        [sequenceId, candidate],
        this.bound.settings.consistencyCodes.serial,
      );
      const head = result.first()?.get('head') as types.Long | null | undefined;
      if (head != null) return toNumber(head);
    }
    return undefined;
  }

  /**
   * Marked (snapshot) tables, before the first write into `bucket` by this strategy, once the bucket is
   * listed: reads the whole bucket index and marks every listed bucket below it `newer` (those it does
   * not know marked), so that a reader that finds rows and no mark in a bucket knows that no newer
   * bucket holds any (docs/cassandra.md, "Snapshots", has the argument). Returns the newest bucket listed
   * above `bucket` (-1: none), which the caller marks on `bucket` itself, in the batch with its rows.
   */
  private async announce(sequenceId: string, bucket: number): Promise<number> {
    const known = this.known.get(sequenceId);
    const remembered = known.announced.get(bucket);
    if (remembered !== undefined) return remembered;
    let above = -1;
    const below: number[] = [];
    for await (const listed of this.bound.walkIndex(sequenceId, 0, Number.MAX_SAFE_INTEGER, false)) {
      known.indexed.add(listed);
      if (listed > bucket) above = listed;
      else if (listed < bucket && !known.marked.has(listed)) below.push(listed);
    }
    // A few at a time: a sequence may list many buckets (a fresh process, timestamp-positioned snapshots).
    for (let from = 0; from < below.length; from += MARKS_AT_ONCE)
      await Promise.all(
        below.slice(from, from + MARKS_AT_ONCE).map((b) => this.bound.markNewer(sequenceId, b, bucket)),
      );
    for (const b of below) known.marked.add(b);
    known.announced.set(bucket, above);
    return above;
  }

  /** Lists a bucket in the index, unless it is known to be there already (index rows are never deleted). */
  private async indexBucket(sequenceId: string, bucket: number, again = false): Promise<void> {
    const known = this.known.get(sequenceId);
    if (known.indexed.has(bucket) && !again) return;
    await this.bound.run(
      `INSERT INTO ${this.bound.indexRef} (sequence_id, bucket) VALUES (?, ?)`,
      [sequenceId, bucket],
      this.bound.settings.consistencyCodes.write,
    );
    known.indexed.add(bucket);
  }
}

/**
 * The commit id of the row at `position` of a bucket, read at the serial level (which completes any
 * Paxos round in flight on that partition); undefined when there is no such row. Errors propagate as
 * the driver raised them.
 */
export async function commitAt(
  bound: BoundTable,
  sequenceId: string,
  bucket: number,
  position: number,
): Promise<types.Uuid | undefined> {
  const { settings } = bound;
  const result = await bound.session.client.execute(
    `SELECT commit_id FROM ${bound.ref} WHERE sequence_id = ? AND bucket = ? AND position = ?`,
    [sequenceId, bucket, position],
    {
      prepare: true,
      consistency: settings.consistencyCodes.serial,
      readTimeout: settings.requestTimeoutMs,
      isIdempotent: true,
    },
  );
  return (result.first()?.get('commit_id') as types.Uuid | null | undefined) ?? undefined;
}

function conflict(sequenceId: string, first: number, head: number | undefined): ConcurrencyError {
  const why =
    head === undefined
      ? `the sequence has no item at position ${first - 1}`
      : head >= first
        ? `the position is already taken (the sequence ends at ${head})`
        : `the sequence ends at ${head}`;
  // Without a stack trace (core's conflictError): a conflict is the expected outcome of racing writers,
  // and capturing the stack was most of the cost of a losing append in process.
  return conflictError(
    `cannot append at position ${first} of sequence ${sequenceId}: ${why}; integer sequences are contiguous from 0`,
    sequenceId,
    first,
  );
}
