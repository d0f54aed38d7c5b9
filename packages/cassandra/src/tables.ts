import { type PositionKind, ValidationError } from '@es/core';
import { assertIdentifier } from '@es/core/backend';

/**
 * How a table lays out its sequences:
 * - `integer`: versions, contiguous from 0. Partition (sequence_id, bucket) with static `head` and
 *   `last_commit`; an append is one conditional batch that moves `head` (see docs/cassandra.md).
 * - `timestamp`: positions are timestamps (ms, fractional). Partition by time bucket; an append is one
 *   conditional batch of `INSERT ... IF NOT EXISTS` rows.
 * - `snapshot`: integer positions (entity versions) with gaps, laid out like `timestamp`, newest first.
 */
export type CqlTableKind = 'integer' | 'timestamp' | 'snapshot';

const DEFAULT_BUCKET_SIZE: Record<CqlTableKind, number> = {
  integer: 10_000,
  timestamp: 86_400_000, // one day of milliseconds
  snapshot: 10_000,
};

/**
 * The feed of an integer table (see docs/cassandra.md, "The feed"): an application-wide log of every
 * appended item, numbered 1, 2, 3... in the order a sequencer copied them.
 */
export interface CqlFeedLayout {
  /** Partitions of the hints table; a sequencer reads all of them each pass. */
  readonly shards: number;
  /** Log ids per log partition: ids [k·L, (k+1)·L) are partition k. */
  readonly logBucketSize: number;
}

export interface CqlFeedOptions {
  /** Default 8. */
  shards?: number;
  /** Default 10,000. */
  logBucketSize?: number;
}

/**
 * A table definition (the seed's "active record class"): an immutable value; `withTableName` and
 * `withBucketSize` return new definitions. The kind `K` is part of the type, as in @es/sql, so that a
 * strategy's type can follow its table (none keeps a notification log yet: see docs/cassandra.md).
 *
 * `bucketSize` bounds partitions: positions [k·B, (k+1)·B) start bucket k. For `integer` tables B counts
 * versions, for `timestamp` tables milliseconds, for `snapshot` tables entity versions. It is part of the
 * stored layout: it is written into the table's comment and checked before use, because two writers
 * with different bucket sizes would break the guarantees.
 */
export class CqlTable<K extends CqlTableKind = CqlTableKind, F extends boolean = boolean> {
  readonly tableName: string;
  readonly bucketSize: number;
  /** The feed's layout, on an integer table made with `withFeed()`; undefined without a feed. */
  readonly feed: F extends true ? CqlFeedLayout : CqlFeedLayout | undefined;

  constructor(
    readonly kind: K,
    tableName: string,
    bucketSize: number = DEFAULT_BUCKET_SIZE[kind],
    feed?: CqlFeedLayout,
  ) {
    this.tableName = assertIdentifier(tableName, 'tableName').toLowerCase();
    // The bucket index table's name must be a plain identifier too.
    assertIdentifier(this.indexTableName, 'tableName');
    if (!Number.isSafeInteger(bucketSize) || bucketSize < 1) {
      throw new ValidationError(
        `bucketSize must be a positive integer, got ${String(bucketSize)}`,
        'bucketSize',
      );
    }
    this.bucketSize = bucketSize;
    if (feed !== undefined) {
      if (kind !== 'integer')
        throw new ValidationError('only integer tables keep a feed (their positions are contiguous)', 'feed');
      for (const name of ['shards', 'logBucketSize'] as const) {
        const value = feed[name];
        if (!Number.isSafeInteger(value) || value < 1 || (name === 'shards' && value > 1024))
          throw new ValidationError(`feed ${name} must be a positive integer, got ${String(value)}`, name);
      }
      for (const name of this.feedTableNames()) assertIdentifier(name, 'tableName');
    }
    this.feed = (feed === undefined ? undefined : Object.freeze({ ...feed })) as CqlTable<K, F>['feed'];
    Object.freeze(this);
  }

  withTableName(tableName: string): CqlTable<K, F> {
    return new CqlTable(this.kind, tableName, this.bucketSize, this.feed) as CqlTable<K, F>;
  }

  withBucketSize(bucketSize: number): CqlTable<K, F> {
    return new CqlTable(this.kind, this.tableName, bucketSize, this.feed) as CqlTable<K, F>;
  }

  /**
   * The same table with a feed: every append also writes a hint, and a FeedSequencer copies committed
   * items into the table's log, which makes a strategy over it an ApplicationRecorder. Integer tables
   * only. Part of the stored layout: writers without the feed are refused on a table created with one.
   */
  withFeed(this: CqlTable<'integer'>, options: CqlFeedOptions = {}): CqlTable<'integer', true> {
    const { shards = 8, logBucketSize = 10_000 } = options;
    // `this.kind`, not 'integer': a JavaScript caller may call it on another kind, which is refused.
    return new CqlTable(this.kind, this.tableName, this.bucketSize, { shards, logBucketSize }) as CqlTable<
      'integer',
      true
    >;
  }

  /** The feed's tables: hints, log, per-sequence progress, and the sequencer's state (watermark, lease). */
  get hintsTableName(): string {
    return `${this.tableName}_hints`;
  }
  get logTableName(): string {
    return `${this.tableName}_log`;
  }
  get progressTableName(): string {
    return `${this.tableName}_progress`;
  }
  get feedStateTableName(): string {
    return `${this.tableName}_feed`;
  }
  private feedTableNames(): string[] {
    return [this.hintsTableName, this.logTableName, this.progressTableName, this.feedStateTableName];
  }

  get positionKind(): PositionKind {
    return this.kind === 'timestamp' ? 'timestamp' : 'integer';
  }

  /** True when appends must continue exactly where the sequence ends (versions from 0, no gaps). */
  get contiguous(): boolean {
    return this.kind === 'integer';
  }

  /** The table that lists, per sequence, the buckets that may hold items. */
  get indexTableName(): string {
    return `${this.tableName}_buckets`;
  }

  /** Stored as the table's comment; `setupTables()` and the strategy compare it before use. */
  get layout(): string {
    const feed =
      this.feed === undefined
        ? ''
        : ` feed_shards=${this.feed.shards} log_bucket_size=${this.feed.logBucketSize}`;
    return `${this.baseLayout}${feed}${this.marksNewer ? ' marks=newer' : ''}`;
  }

  /**
   * Snapshot tables: each bucket's static `newer` is set once a newer bucket of its sequence is listed,
   * so that a read of the newest snapshot trusts a bucket it remembers without reading the bucket index
   * (see docs/cassandra.md, "Snapshots"). Part of the layout, so that writers that do not set it (older
   * versions of this package) are refused on a table that has it.
   */
  get marksNewer(): boolean {
    return this.kind === 'snapshot';
  }

  /**
   * Snapshot tables: the layout of the same table as created before `marks=newer`. Such a table (no
   * `newer` column) is still used, read through its bucket index as before.
   */
  get legacyLayout(): string | undefined {
    return this.marksNewer ? this.baseLayout : undefined;
  }

  private get baseLayout(): string {
    return `@es/cassandra kind=${this.kind} bucket_size=${this.bucketSize}`;
  }

  bucketOf(position: number): number {
    return Math.floor(position / this.bucketSize);
  }

  /** CREATE TABLE statements (idempotent) for the items table, its bucket index and its feed's tables. */
  createStatements(keyspace: string): string[] {
    return [...this.itemStatements(keyspace), ...this.feedStatements(keyspace)];
  }

  private itemStatements(keyspace: string): string[] {
    const positionType = this.kind === 'timestamp' ? 'double' : 'bigint';
    const statics =
      this.kind === 'integer'
        ? '\n  head bigint static,\n  last_commit uuid static,'
        : this.marksNewer
          ? '\n  newer bigint static,'
          : '';
    const order = this.kind === 'snapshot' ? 'DESC' : 'ASC';
    return [
      `CREATE TABLE IF NOT EXISTS ${keyspace}.${this.tableName} (
  sequence_id text,
  bucket bigint,
  position ${positionType},
  topic text,
  data text,
  commit_id uuid,${statics}
  PRIMARY KEY ((sequence_id, bucket), position)
) WITH CLUSTERING ORDER BY (position ${order}) AND comment = '${this.layout}'`,
      `CREATE TABLE IF NOT EXISTS ${keyspace}.${this.indexTableName} (
  sequence_id text,
  bucket bigint,
  PRIMARY KEY (sequence_id, bucket)
) WITH comment = '${this.layout}'`,
    ];
  }

  /**
   * The feed's tables. Hints: one partition per shard, one row per append attempt (its commit id), so
   * that retiring one never shadows another; resurrecting a deleted hint is harmless (the sequencer
   * retires it again), hence gc_grace_seconds = 0, which keeps tombstones short-lived. Log: partition
   * by id range, `head` (the last id in the partition) is the compare-and-set fence. Progress: per
   * sequence, the last position copied. Feed state: the watermark and the lease.
   */
  private feedStatements(keyspace: string): string[] {
    if (this.feed === undefined) return [];
    return [
      `CREATE TABLE IF NOT EXISTS ${keyspace}.${this.hintsTableName} (
  shard int,
  sequence_id text,
  commit_id uuid,
  first bigint,
  deadline bigint,
  PRIMARY KEY (shard, sequence_id, commit_id)
) WITH gc_grace_seconds = 0 AND comment = '${this.layout}'`,
      `CREATE TABLE IF NOT EXISTS ${keyspace}.${this.logTableName} (
  bucket bigint,
  id bigint,
  sequence_id text,
  position bigint,
  topic text,
  data text,
  chunk uuid,
  head bigint static,
  PRIMARY KEY (bucket, id)
) WITH CLUSTERING ORDER BY (id ASC) AND comment = '${this.layout}'`,
      `CREATE TABLE IF NOT EXISTS ${keyspace}.${this.progressTableName} (
  sequence_id text PRIMARY KEY,
  copied bigint
) WITH comment = '${this.layout}'`,
      `CREATE TABLE IF NOT EXISTS ${keyspace}.${this.feedStateTableName} (
  name text PRIMARY KEY,
  holder text,
  value bigint
) WITH comment = '${this.layout}'`,
    ];
  }

  dropStatements(keyspace: string): string[] {
    return [
      this.tableName,
      this.indexTableName,
      ...(this.feed === undefined ? [] : this.feedTableNames()),
    ].map((name) => `DROP TABLE IF EXISTS ${keyspace}.${name}`);
  }
}

/** Versioned items (the seed's CqlIntegerSequencedItem): contiguous versions from 0. */
export const CqlIntegerSequencedItem = new CqlTable('integer', 'integer_sequenced_items') as CqlTable<
  'integer',
  false
>;
/** Items positioned by timestamp (the seed's CqlTimestampSequencedItem). */
export const CqlTimestampSequencedItem = new CqlTable('timestamp', 'timestamp_sequenced_items') as CqlTable<
  'timestamp',
  false
>;
/** Snapshots: at most one per entity version, gaps allowed, newest first. */
export const CqlSnapshot = new CqlTable('snapshot', 'snapshots') as CqlTable<'snapshot', false>;
