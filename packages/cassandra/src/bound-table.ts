import { SequencedItem } from '@es/core';
import type { types } from 'cassandra-driver';
import { type CqlSession, statementError } from './datastore.js';
import type { CqlTable } from './tables.js';

export const MAX_INT = 2_147_483_647;
const INDEX_PAGE = 100;

export const toNumber = (value: unknown): number =>
  typeof value === 'number' ? value : (value as types.Long).toNumber();

/** A position range as CQL: clauses on `position`, their values, and the positions it spans. */
export interface PositionRange {
  readonly clauses: string;
  readonly params: number[];
  /** Lowest and highest position in the range (for integer tables: inclusive integers). */
  readonly low: number;
  readonly high: number;
}

/** One bucket's items in [from, high] and the bucket's head as seen by the same read. */
export interface RowsWithHead {
  readonly items: SequencedItem[];
  /** The highest head on the rows read (undefined when no row carried one). */
  readonly head: number | undefined;
}

/** The newest items of one bucket in range, and the bucket's `newer` mark as seen by the same read. */
export interface RowsWithNewer {
  readonly items: SequencedItem[];
  /** A newer bucket listed for the sequence (undefined: none was, when the rows were written). */
  readonly newer: number | undefined;
}

/**
 * The reads a read planner makes, one bucket (or one page of the bucket index) at a time. BoundTable
 * implements it with CQL; the planners' unit tests implement it in memory, so that the plans are tested
 * without a server (test/read-planner.test.ts).
 */
export interface BucketReads {
  /** The items of one bucket in range, in order, at most `limit` (every page of the read, collected). */
  rowsIn(
    sequenceId: string,
    bucket: number,
    range: PositionRange,
    descending: boolean,
    limit: number,
  ): Promise<SequencedItem[]>;
  /** Integer tables: one bucket's items in [from, high] with the head carried by those rows. */
  rowsWithHead(
    sequenceId: string,
    bucket: number,
    from: number,
    high: number,
    limit: number,
    descending: boolean,
  ): Promise<RowsWithHead>;
  /** True when each bucket carries the `newer` mark (snapshot tables: see CqlTable.marksNewer). */
  readonly marked: boolean;
  /** Marked tables: one bucket's items in range, newest first, at most `limit`, with its `newer` mark. */
  newestIn(sequenceId: string, bucket: number, range: PositionRange, limit: number): Promise<RowsWithNewer>;
  /** A bucket's head (its static column), or undefined when the bucket is empty. */
  headOf(sequenceId: string, bucket: number): Promise<number | undefined>;
  /** The indexed buckets of a sequence in [from, to], in order, paged. */
  walkIndex(sequenceId: string, from: number, to: number, descending: boolean): AsyncGenerator<number>;
  /** At most `limit` indexed buckets of a sequence in [from, to]. */
  indexedBuckets(
    sequenceId: string,
    from: number,
    to: number,
    descending: boolean,
    limit: number,
  ): Promise<number[]>;
}

/**
 * A table definition bound to a session: the CQL of one items table and its bucket index, and the
 * statements that run it (every one prepared, at the configured levels, paged where long).
 */
export class BoundTable implements BucketReads {
  readonly ref: string;
  readonly indexRef: string;
  private readonly itemColumns: string;

  /**
   * `commits`: when given, item reads also fetch each row's commit id and record it there (the feed's
   * sequencer orders what it copies by commit). `marked`: the stored table carries the `newer` marks
   * (what the layout check found).
   */
  constructor(
    readonly session: CqlSession,
    readonly table: CqlTable,
    readonly commits?: WeakMap<SequencedItem, types.Uuid>,
    readonly marked = false,
  ) {
    this.ref = `${session.keyspace}.${table.tableName}`;
    this.indexRef = `${session.keyspace}.${table.indexTableName}`;
    this.itemColumns = commits === undefined ? 'position, topic, data' : 'position, topic, data, commit_id';
  }

  get settings() {
    return this.session.settings;
  }

  /** One idempotent statement (a read, or an upsert). */
  async run(
    cql: string,
    params: unknown[],
    consistency: number,
    extra: { fetchSize?: number; pageState?: string } = {},
  ): Promise<types.ResultSet> {
    try {
      return await this.session.client.execute(cql, params, {
        prepare: true,
        consistency,
        readTimeout: this.settings.requestTimeoutMs,
        isIdempotent: true,
        ...extra,
      });
    } catch (error) {
      throw await statementError(error, this.session, this.table);
    }
  }

  /**
   * All rows of a read, a page (`fetchSize` rows) at a time. Pages, not rows: an async generator's
   * resumption per row cost ~1 ms of CPU per 10,000-row load, twice over (this and rowsIn), measured by
   * `probes/cassandra.ts load` with REPLAY=1.
   */
  async *pages(cql: string, params: unknown[], fetchSize: number): AsyncGenerator<types.Row[]> {
    let pageState: string | undefined;
    do {
      const result = await this.run(cql, params, this.settings.consistencyCodes.read, {
        fetchSize,
        ...(pageState ? { pageState } : {}),
      });
      yield result.rows;
      pageState = result.pageState ?? undefined;
    } while (pageState !== undefined);
  }

  async rowsIn(
    sequenceId: string,
    bucket: number,
    range: PositionRange,
    descending: boolean,
    limit: number,
  ): Promise<SequencedItem[]> {
    const items: SequencedItem[] = [];
    if (limit <= 0) return items;
    const cql = `SELECT ${this.itemColumns} FROM ${this.ref} WHERE sequence_id = ? AND bucket = ?${range.clauses} ORDER BY position ${descending ? 'DESC' : 'ASC'} LIMIT ?`;
    const fetchSize = Math.min(limit, this.settings.fetchSize);
    for await (const page of this.pages(
      cql,
      [sequenceId, bucket, ...range.params, Math.min(limit, MAX_INT)],
      fetchSize,
    ))
      for (const row of page) items.push(this.itemOf(sequenceId, row));
    return items;
  }

  async rowsWithHead(
    sequenceId: string,
    bucket: number,
    from: number,
    high: number,
    limit: number,
    descending: boolean,
  ): Promise<RowsWithHead> {
    const cql = `SELECT ${this.itemColumns}, head FROM ${this.ref} WHERE sequence_id = ? AND bucket = ? AND position >= ? AND position <= ? ORDER BY position ${descending ? 'DESC' : 'ASC'} LIMIT ?`;
    const items: SequencedItem[] = [];
    let head: number | undefined;
    for await (const page of this.pages(
      cql,
      [sequenceId, bucket, from, high, Math.min(limit, MAX_INT)],
      Math.min(limit, this.settings.fetchSize),
    ))
      for (const row of page) {
        const h = row.get('head') as types.Long | null;
        if (h != null) head = Math.max(head ?? -1, toNumber(h));
        items.push(this.itemOf(sequenceId, row));
      }
    return { items, head };
  }

  async newestIn(
    sequenceId: string,
    bucket: number,
    range: PositionRange,
    limit: number,
  ): Promise<RowsWithNewer> {
    // Every range of a marked (snapshot) table has clauses on `position`, so a bucket that holds only
    // its mark (a static row) returns no row here.
    const cql = `SELECT ${this.itemColumns}, newer FROM ${this.ref} WHERE sequence_id = ? AND bucket = ?${range.clauses} ORDER BY position DESC LIMIT ?`;
    const items: SequencedItem[] = [];
    let newer: number | undefined;
    for await (const page of this.pages(
      cql,
      [sequenceId, bucket, ...range.params, Math.min(limit, MAX_INT)],
      Math.min(limit, this.settings.fetchSize),
    ))
      for (const row of page) {
        const mark = row.get('newer') as types.Long | null;
        if (mark != null) newer = toNumber(mark);
        items.push(this.itemOf(sequenceId, row));
      }
    return { items, newer };
  }

  /** The statement that sets a bucket's `newer` mark (an idempotent upsert of its static column). */
  markStatement(sequenceId: string, bucket: number, newer: number): { query: string; params: unknown[] } {
    return {
      query: `UPDATE ${this.ref} SET newer = ? WHERE sequence_id = ? AND bucket = ?`,
      params: [newer, sequenceId, bucket],
    };
  }

  /** Sets a bucket's `newer` mark. */
  async markNewer(sequenceId: string, bucket: number, newer: number): Promise<void> {
    const { query, params } = this.markStatement(sequenceId, bucket, newer);
    await this.run(query, params, this.settings.consistencyCodes.write);
  }

  async headOf(sequenceId: string, bucket: number): Promise<number | undefined> {
    return this.readHead(sequenceId, bucket, this.settings.consistencyCodes.read);
  }

  /** A bucket's head read at `consistency` (SERIAL when an append depends on it). */
  async readHead(sequenceId: string, bucket: number, consistency: number): Promise<number | undefined> {
    const result = await this.run(
      `SELECT DISTINCT sequence_id, bucket, head FROM ${this.ref} WHERE sequence_id = ? AND bucket = ?`,
      [sequenceId, bucket],
      consistency,
    );
    const head = result.first()?.get('head') as types.Long | null | undefined;
    return head == null ? undefined : toNumber(head);
  }

  async *walkIndex(
    sequenceId: string,
    from: number,
    to: number,
    descending: boolean,
  ): AsyncGenerator<number> {
    const cql = `SELECT bucket FROM ${this.indexRef} WHERE sequence_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket ${descending ? 'DESC' : 'ASC'}`;
    for await (const page of this.pages(cql, [sequenceId, from, to], INDEX_PAGE))
      for (const row of page) yield toNumber(row.get('bucket'));
  }

  async indexedBuckets(
    sequenceId: string,
    from: number,
    to: number,
    descending: boolean,
    limit: number,
  ): Promise<number[]> {
    const cql = `SELECT bucket FROM ${this.indexRef} WHERE sequence_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket ${descending ? 'DESC' : 'ASC'} LIMIT ?`;
    const result = await this.run(cql, [sequenceId, from, to, limit], this.settings.consistencyCodes.read);
    return result.rows.map((row) => toNumber(row.get('bucket')));
  }

  /** Every sequence id that has a partition, paged. */
  async *sequenceIds(): AsyncGenerator<string> {
    for await (const page of this.pages(
      `SELECT DISTINCT sequence_id, bucket FROM ${this.ref}`,
      [],
      this.settings.fetchSize,
    ))
      for (const row of page) yield row.get('sequence_id') as string;
  }

  private itemOf(sequenceId: string, row: types.Row): SequencedItem {
    const item = new SequencedItem(
      sequenceId,
      toNumber(row.get('position')),
      row.get('topic') as string,
      row.get('data') as string,
    );
    this.commits?.set(item, row.get('commit_id') as types.Uuid);
    return item;
  }
}
