import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type AggregateRecorder,
  type Notification,
  type NotificationQuery,
  NotificationItem,
  NotSupportedError,
  type ProcessAppends,
  SequencedItem,
  type SnapshotTail,
  type Tracking,
  type TrackingRecorder,
} from '@es/core';
import {
  ActiveRecordStrategy,
  type AppendSignal,
  appendSignalFor,
  type ActiveRecordStrategyOptions,
  type NormalizedQuery,
  type TableOption,
  tableOption,
  validateTrackingList,
  validateTrackingName,
} from '@es/core/backend';
import { type Compilable, type Kysely, type RawBuilder, type Transaction, sql } from 'kysely';
import { asCaller, type Row } from './connection.js';
import type { SqlDatastore } from './datastore.js';
import { mapDriverError } from './errors.js';
import { followerRead } from './mysql.js';
import { appendGrouped } from './group-commit.js';
import { snapshotTail } from './snapshot-tail.js';
import {
  type KeepsNotificationLog,
  SqlItemsTable,
  type SqlTableKind,
  type SqlTrackingTable,
  type SchemalessDatabase,
} from './tables.js';
import { SqlTrackingRecorder, describe } from './tracking.js';

export type SqlActiveRecordStrategyOptions<I = SequencedItem, K extends SqlTableKind = SqlTableKind> = Omit<
  ActiveRecordStrategyOptions<I>,
  'positionKind' | 'contiguous'
> &
  /**
   * The items table (`table`, or the seed's `activeRecordClass`): its kind sets the position kind and
   * whether there is a notification log.
   */
  TableOption<SqlItemsTable<K>> & {
    datastore: SqlDatastore;
    /**
     * A tracking table (among the datastore's tables): with it, the strategy is a process recorder
     * (`processWithTracking` writes tracking, a read model's rows and new events in one transaction).
     */
    tracking?: SqlTrackingTable;
  };

/** What `this` must be for the log methods: a strategy whose table keeps the notification log. */
type WithNotificationLog = { readonly supportsNotifications: true };

/**
 * The seed's active record strategy over one SQL table, on any dialect. Reads are built with Kysely;
 * appends use each dialect's one-round-trip ordered insert (see the dialect files).
 *
 * The table decides whether there is a notification log, and the table's kind `K` is part of the type:
 * over an integer or timestamp table the strategy is an ApplicationRecorder; over a snapshots table
 * its log methods do not compile (and reject with NotSupportedError when called from JavaScript).
 *
 * With a `tracking` table it is a process recorder (see @es/core's ProcessRecorder, whose handle is a
 * Kysely transaction): `isProcessRecorder(strategy)` narrows it, and `openStore` types it so.
 */
export class SqlActiveRecordStrategy<I = SequencedItem, K extends SqlTableKind = SqlTableKind>
  extends ActiveRecordStrategy<I>
  implements TrackingRecorder
{
  readonly supportsNotifications: KeepsNotificationLog<K>;
  /** True with a tracking table: the strategy then records tracking with its appends. */
  readonly supportsTracking: boolean;
  /** A failed transaction undoes the read model's writes made through its Kysely transaction. */
  readonly handleRollsBack = true;
  /**
   * Raised in this process after appends to the table's log commit, whichever strategy object over the
   * same database and table made them (tables with a notification log only).
   */
  readonly appended: AppendSignal | undefined;
  readonly datastore: SqlDatastore;
  readonly table: SqlItemsTable<K>;
  private readonly tracking: SqlTrackingRecorder | undefined;
  /** SQL text by statement shape (a name, or a number for the shapes of `select`), compiled on first use. */
  private readonly statements = new Map<string | number, string>();
  /** The first statement shape number of the snapshot-and-events reads, by snapshots table. */
  private readonly tailShapes = new Map<string, number>();
  /** Set while `run` of processWithTracking runs: an `append` there would not be in its transaction. */
  private readonly inProcess = new AsyncLocalStorage<true>();

  constructor(options: SqlActiveRecordStrategyOptions<I, K>) {
    const { datastore, table: _table, activeRecordClass: _activeRecordClass, tracking, ...rest } = options;
    const table = tableOption(
      options,
      (value): value is SqlItemsTable<K> => value instanceof SqlItemsTable,
      'SqlIntegerSequencedItem',
    );
    // Integer tables hold versions, contiguous from 0; snapshots sit at versions with gaps between them.
    super({
      ...rest,
      positionKind: table.positionKind,
      contiguous: table.kind === 'integer',
      // Each page of a long read is a statement: a 10,000-event load on PostgreSQL or MariaDB spent ~20-50%
      // less CPU in pages of 5,000 than of 1,000 (docs/benchmarks.md, Round 2d: loads).
      pageSize: rest.pageSize ?? 5000,
    });
    this.datastore = datastore;
    this.table = table;
    this.supportsNotifications = table.notificationLog;
    this.tracking = tracking ? new SqlTrackingRecorder({ datastore, table: tracking }) : undefined;
    this.supportsTracking = this.tracking !== undefined && table.notificationLog;
    this.appended = table.notificationLog
      ? appendSignalFor(`@es/sql ${datastore.settings} ${table.tableName}`)
      : undefined;
  }

  protected async insert(items: readonly SequencedItem[]): Promise<void> {
    if (this.inProcess.getStore()) {
      // On SQLite it would wait forever for the connection the transaction holds; elsewhere it would
      // commit apart from the tracking record.
      throw new NotSupportedError(
        'append() inside processWithTracking would not be part of its transaction: pass the new items as options.append',
      );
    }
    // Concurrent appends to the table in this process share commits (see group-commit.ts).
    await this.datastore.use((connection) => appendGrouped(connection, this.table, items));
    this.appended?.raise();
  }

  /** Not `async`: the rows become items in the read's own `then` (an async frame here cost a turn). */
  protected select(sequenceId: string, q: NormalizedQuery): Promise<SequencedItem[]> {
    const bounds = this.bounds(q);
    if (bounds === undefined) return Promise.resolve([]);
    const { lower, lowerOp, upper, upperOp } = bounds;
    // One item (a snapshot, the newest event, an item at a position): `limit 1` written out, a statement
    // of its own that SQLite runs ~0.5 µs faster than one with the limit as a parameter.
    const one = q.limit === 1;
    const limit = one ? undefined : q.limit;
    // The statement's shape as a number, a digit per choice (no two shapes share one): a key string
    // built per read cost ~0.2 µs of CPU.
    const shape =
      (lower === undefined ? 0 : lowerOp === '>' ? 1 : 2) +
      (upper === undefined ? 0 : upperOp === '<' ? 3 : 6) +
      (q.descending ? 9 : 0) +
      (limit === undefined ? (one ? 36 : 0) : 18);
    const params: unknown[] = [sequenceId];
    if (lower !== undefined) params.push(lower);
    if (upper !== undefined) params.push(upper);
    if (limit !== undefined) params.push(limit);
    const rows = this.read(shape, params, (db) => {
      let query = db
        .selectFrom(this.table.tableName)
        .select(['position', 'topic', 'data'])
        .where('sequence_id', '=', sequenceId);
      if (lower !== undefined) query = query.where('position', lowerOp, lower);
      if (upper !== undefined) query = query.where('position', upperOp, upper);
      query = query.orderBy('position', q.descending ? 'desc' : 'asc');
      if (one) return query.limit(sql.lit(1));
      return limit === undefined ? query : query.limit(this.limitOf(limit));
    });
    return rows.then((rows) => {
      const items = new Array<SequencedItem>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const [position, topic, data] = rows[i]!;
        items[i] = new SequencedItem(sequenceId, Number(position), topic as string, data as string);
      }
      return items;
    });
  }

  /**
   * A snapshots table of the same datastore: a load from a snapshot is then one statement (see
   * selectSnapshotTail) instead of two, the second of which waits for the first's answer.
   */
  override readsSnapshotsOf(snapshots: AggregateRecorder<unknown>): boolean {
    return (
      snapshots instanceof SqlActiveRecordStrategy &&
      snapshots.datastore === this.datastore &&
      snapshots.table.kind === 'snapshot' &&
      this.table.kind === 'integer' &&
      snapshots.sequenceIdKind === this.sequenceIdKind
    );
  }

  /**
   * The newest snapshot and the events from its version on, in one statement (a UNION ALL of the
   * snapshot's row and the events' rows, whose lower bound is the same snapshot's position, read by a
   * subquery): one round trip, and both from the statement's one view of the database, so an append
   * or a snapshot committed meanwhile is in both parts or in neither.
   */
  protected override selectSnapshotTail(
    snapshots: SqlActiveRecordStrategy<unknown>,
    sequenceId: string,
    snapshotUpper: number,
    eventsUpper: number,
    limit: number,
  ): Promise<SnapshotTail<SequencedItem>> {
    const snapshotBound = snapshotUpper !== Infinity;
    const eventsBound = eventsUpper !== Infinity;
    let base = this.tailShapes.get(snapshots.table.tableName);
    if (base === undefined)
      this.tailShapes.set(snapshots.table.tableName, (base = 100 + 4 * this.tailShapes.size));
    const shape = base + (snapshotBound ? 1 : 0) + (eventsBound ? 2 : 0);
    // In the statement's order: the snapshot's part, then the events' (their id, the subquery's, theirs).
    const params: unknown[] = [sequenceId];
    if (snapshotBound) params.push(snapshotUpper);
    params.push(sequenceId, sequenceId);
    if (snapshotBound) params.push(snapshotUpper);
    if (eventsBound) params.push(eventsUpper);
    params.push(limit);
    const rows = this.read(shape, params, (db) => {
      const kept = sql.table(snapshots.table.tableName);
      const snapshotAt = (upper: number) => (snapshotBound ? sql` and position <= ${upper}` : sql``);
      const newest = sql`select 0 as k, position, topic, data from ${kept} where sequence_id = ${sequenceId}${snapshotAt(snapshotUpper)} order by position desc limit 1`;
      const after = sql`select 1 as k, position, topic, data from ${sql.table(this.table.tableName)} where sequence_id = ${sequenceId} and position >= coalesce((select max(position) from ${kept} where sequence_id = ${sequenceId}${snapshotAt(snapshotUpper)}), 0)${eventsBound ? sql` and position <= ${eventsUpper}` : sql``} order by position limit ${this.limitOf(limit)}`;
      // SQLite allows ORDER BY and LIMIT only at the end of a compound select, so there each part is a
      // derived table. MariaDB materialises a derived table, and one with a longtext column on disk
      // (Created_tmp_disk_tables 2 per load, every event of the page written out and read back), so
      // PostgreSQL and MySQL take the parts in parentheses, which stream (no temporary table).
      const statement =
        this.datastore.settings.dialect === 'sqlite'
          ? sql`select * from (${newest}) as s union all select * from (${after}) as e`
          : sql`(${newest}) union all (${after})`;
      return { compile: () => statement.compile(db) };
    });
    return rows.then((rows) => snapshotTail(rows, sequenceId));
  }

  protected async selectSequenceIds(): Promise<string[]> {
    const rows = await this.read('sequence ids', [], (db) =>
      db.selectFrom(this.table.tableName).select('sequence_id').distinct(),
    );
    return rows.map((r) => text(r[0]));
  }

  /**
   * Notifications with id >= start, ascending, at most `limit` (tables with a notification log only),
   * of the given topics when `query.topics` names any: filtered in the query, which walks the id index
   * from `start` (`topic = any($2)` on PostgreSQL, one statement for any number of topics; `topic in
   * (?, ...)` elsewhere, one statement per number of topics).
   */
  async selectNotifications(
    this: SqlActiveRecordStrategy<I, K> & WithNotificationLog,
    start: number,
    limit: number,
    query: NotificationQuery = {},
  ): Promise<Notification[]> {
    this.assertNotificationLog();
    this.validateNotificationRange(start, limit);
    const topics = query.topics === undefined ? [] : [...new Set(query.topics)];
    for (const topic of topics) this.validateTopic(topic);
    const postgres = this.datastore.settings.dialect === 'postgres';
    const shape =
      topics.length === 0
        ? 'notifications'
        : postgres
          ? 'notifications of topics'
          : `notifications of ${topics.length} topics`;
    const params =
      topics.length === 0 ? [start, limit] : postgres ? [start, topics, limit] : [start, ...topics, limit];
    const rows = await this.read(shape, params, (db) => {
      let select = db
        .selectFrom(this.table.tableName)
        .select(['id', 'sequence_id', 'position', 'topic', 'data'])
        .where('id', '>=', start);
      if (topics.length > 0)
        select = postgres
          ? select.where('topic', '=', sql<string>`any(${topics}::text[])`)
          : select.where('topic', 'in', topics);
      const page = select.orderBy('id').limit(this.limitOf(limit));
      return this.datastore.settings.dialect === 'mysql' ? followerRead(page, this.table.tableName) : page;
    });
    return notificationsOf(rows);
  }

  /** The highest notification id, or 0 (tables with a notification log only). */
  async maxNotificationId(this: SqlActiveRecordStrategy<I, K> & WithNotificationLog): Promise<number> {
    this.assertNotificationLog();
    const [row] = await this.read('max id', [], (db) =>
      db.selectFrom(this.table.tableName).select((eb) => eb.fn.max('id').as('max')),
    );
    return Number(row?.[0] ?? 0);
  }

  /**
   * In one transaction on one connection: the tracking records (AlreadyProcessedError when one is
   * taken, before `run`), `run(trx)` (the follower's read-model writes, through `trx` only), then
   * `options.append`'s batches (a taken position: ConcurrencyError, and nothing of it is written). The
   * new rows get ids in commit order, and `appended` is raised after the commit. Needs the `tracking`
   * option; see @es/core's ProcessRecorder.
   */
  async processWithTracking<T>(
    tracking: Tracking | readonly Tracking[],
    run: (trx: Transaction<SchemalessDatabase>) => Promise<T> | T,
    options: ProcessAppends<I> = {},
  ): Promise<T> {
    const tracker = this.tracker();
    const records = validateTrackingList(tracking);
    const batches = (options.append ?? []).map((batch) =>
      this.validateBatch(batch.map((item) => this.shape.toCanonical(item))),
    );
    if (batches.length > 0) this.assertNotificationLog();
    const result = await this.datastore.use((connection) =>
      connection.transaction(async (trx) => {
        await tracker.record(trx, records);
        const result = await this.inProcess.run(true, () => asCaller(() => run(trx)));
        for (const batch of batches) await connection.insertItemsIn(trx, this.table, batch);
        return result;
      }, describe(records)),
    );
    if (batches.length > 0) this.appended?.raise();
    return result;
  }

  /** Forgets the tracking of `applicationName`, in one transaction with `run(trx)`. Needs `tracking`. */
  async deleteTracking(
    applicationName: string,
    run?: (trx: Transaction<SchemalessDatabase>) => Promise<void> | void,
  ): Promise<void> {
    validateTrackingName(applicationName);
    return this.tracker().deleteTracking(applicationName, run);
  }

  async maxTrackingId(applicationName: string): Promise<number> {
    return this.tracker().maxTrackingId(applicationName);
  }

  /** The datastore belongs to its creator, who closes it: this strategy holds nothing of its own. */
  override async close(): Promise<void> {}

  private tracker(): SqlTrackingRecorder {
    if (this.tracking === undefined)
      throw new NotSupportedError('this strategy has no tracking table: pass the `tracking` option');
    return this.tracking;
  }

  /** For JavaScript callers: the compiler already refuses these calls on a snapshots table. */
  private assertNotificationLog(): void {
    if (!this.table.notificationLog)
      throw new NotSupportedError(
        `table ${this.table.tableName} (a ${this.table.kind} table) has no notification log`,
      );
  }

  /**
   * Runs one of the strategy's few read statements. Each shape is compiled by Kysely once (for the
   * datastore's dialect) and then run with `params`, in the order the builder placed them, as a
   * statement the connection prepares once. Rows come as arrays, in the order of the select list.
   */
  private read(
    shape: string | number,
    params: readonly unknown[],
    build: (db: Kysely<SchemalessDatabase>) => Compilable,
  ): Promise<Row[]> {
    return this.datastore.use((connection) => {
      let sql = this.statements.get(shape);
      if (sql === undefined) {
        const compiled = build(connection.db).compile();
        if (compiled.parameters.length !== params.length)
          throw new Error(`@es/sql: statement "${shape}" takes ${compiled.parameters.length} parameters`);
        this.statements.set(shape, (sql = compiled.sql));
      }
      return connection.select(sql, params).catch(this.readFailed);
    });
  }

  /** A driver's error on a read, as the error a read rejects with. */
  private readonly readFailed = (error: unknown): never => {
    throw mapDriverError(this.datastore.settings, error, {
      write: false,
      what: `a read of ${this.table.tableName}`,
    });
  };

  /**
   * A LIMIT's parameter. SQLite (built with STAT4, as better-sqlite3 is) spends ~5 µs more per run of a
   * statement whose LIMIT is a bare parameter than of one whose LIMIT is an expression (measured with
   * better-sqlite3 12: 7.9 against 2.8 µs of CPU for a one-page read): the cast keeps the statement
   * shared by every limit and costs nothing. The plan is the same (the key index, in key order).
   */
  private limitOf(limit: number): number | RawBuilder<number> {
    return this.datastore.settings.dialect === 'sqlite' ? sql<number>`cast(${limit} as integer)` : limit;
  }

  /**
   * The query's bounds as the column can hold them: integer positions get inclusive integer bounds (a
   * bigint column rejects 1.5), and a bound that excludes nothing is left out. Undefined when nothing
   * can match.
   */
  private bounds(
    q: NormalizedQuery,
  ):
    | { lower: number | undefined; lowerOp: '>' | '>='; upper: number | undefined; upperOp: '<' | '<=' }
    | undefined {
    // Literals with undefined for "no bound", not conditional spreads: those cost microseconds per read.
    if (this.positionKind === 'timestamp') {
      return {
        lower: Number.isFinite(q.lower) ? q.lower : undefined,
        lowerOp: q.lowerInclusive ? '>=' : '>',
        upper: Number.isFinite(q.upper) ? q.upper : undefined,
        upperOp: q.upperInclusive ? '<=' : '<',
      };
    }
    const lower = q.lowerInclusive ? Math.ceil(q.lower) : Math.floor(q.lower) + 1;
    const upper = q.upperInclusive ? Math.floor(q.upper) : Math.ceil(q.upper) - 1;
    if (lower > upper || upper < 0 || lower > Number.MAX_SAFE_INTEGER) return undefined;
    return {
      lower: lower > 0 ? lower : undefined,
      lowerOp: '>=',
      upper: upper < Number.MAX_SAFE_INTEGER ? upper : undefined,
      upperOp: '<=',
    };
  }
}

/** A key column (a sequence id) as a string: MySQL returns the bytes of its binary column. */
function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : (value as string);
}

/** The log's rows (`id, sequence_id, position, topic, data`) as notifications that are their own items. */
function notificationsOf(rows: readonly Row[]): NotificationItem[] {
  const notifications = new Array<NotificationItem>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    notifications[i] = new NotificationItem(
      Number(row[0]),
      text(row[1]),
      Number(row[2]),
      row[3] as string,
      row[4] as string,
    );
  }
  return notifications;
}
