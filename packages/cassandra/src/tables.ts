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
 * A table definition (the seed's "active record class"): an immutable value; `withTableName` and
 * `withBucketSize` return new definitions. The kind `K` is part of the type, as in @es/sql, so that a
 * strategy's type can follow its table (none keeps a notification log yet: see docs/cassandra.md).
 *
 * `bucketSize` bounds partitions: positions [k·B, (k+1)·B) start bucket k. For `integer` tables B counts
 * versions, for `timestamp` tables milliseconds, for `snapshot` tables entity versions. It is part of the
 * stored layout: it is written into the table's comment and checked before use, because two writers
 * with different bucket sizes would break the guarantees.
 */
export class CqlTable<K extends CqlTableKind = CqlTableKind> {
  readonly tableName: string;
  readonly bucketSize: number;

  constructor(
    readonly kind: K,
    tableName: string,
    bucketSize: number = DEFAULT_BUCKET_SIZE[kind],
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
    Object.freeze(this);
  }

  withTableName(tableName: string): CqlTable<K> {
    return new CqlTable(this.kind, tableName, this.bucketSize);
  }

  withBucketSize(bucketSize: number): CqlTable<K> {
    return new CqlTable(this.kind, this.tableName, bucketSize);
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
    return `@es/cassandra kind=${this.kind} bucket_size=${this.bucketSize}`;
  }

  bucketOf(position: number): number {
    return Math.floor(position / this.bucketSize);
  }

  /** CREATE TABLE statements (idempotent) for the items table and its bucket index. */
  createStatements(keyspace: string): string[] {
    const positionType = this.kind === 'timestamp' ? 'double' : 'bigint';
    const statics = this.kind === 'integer' ? '\n  head bigint static,\n  last_commit uuid static,' : '';
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

  dropStatements(keyspace: string): string[] {
    return [
      `DROP TABLE IF EXISTS ${keyspace}.${this.tableName}`,
      `DROP TABLE IF EXISTS ${keyspace}.${this.indexTableName}`,
    ];
  }
}

/** Versioned items (the seed's CqlIntegerSequencedItem): contiguous versions from 0. */
export const CqlIntegerSequencedItem = new CqlTable('integer', 'integer_sequenced_items');
/** Items positioned by timestamp (the seed's CqlTimestampSequencedItem). */
export const CqlTimestampSequencedItem = new CqlTable('timestamp', 'timestamp_sequenced_items');
/** Snapshots: at most one per entity version, gaps allowed, newest first. */
export const CqlSnapshot = new CqlTable('snapshot', 'snapshots');
