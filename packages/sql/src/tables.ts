import { type PositionKind, ValidationError } from '@es/core';
import { assertIdentifier } from '@es/core/backend';
import { type Compilable, type CreateTableBuilder, type Expression, type Kysely, sql } from 'kysely';
import type { SqlDialectName } from './settings.js';

/**
 * The database type every Kysely instance and transaction of @es/sql has: `any`, Kysely's own type for an
 * instance without a static schema. The tables' names are the user's, chosen at run time
 * (`withTableName`), and a read model's tables (written through a projection's transaction) are the
 * user's too, so no interface of columns could name them.
 */
export type SchemalessDatabase = any;

/**
 * What an items table holds (the same kinds as @es/cassandra's tables):
 * - `integer`: the events of versioned entities, with the application's notification log;
 * - `timestamp`: items positioned by timestamps (milliseconds, with fractions), with a notification log;
 * - `snapshot`: snapshots of entities at integer versions; not part of any notification log.
 */
export type SqlTableKind = 'integer' | 'timestamp' | 'snapshot';

/**
 * Whether tables of a kind keep the notification log, as a type: `true` for integer and timestamp
 * tables, `false` for snapshots, `boolean` when the kind is not known.
 */
export type KeepsNotificationLog<K extends SqlTableKind> = K extends 'snapshot' ? false : true;

/**
 * A table the datastore creates and drops: an immutable definition value (the seed's "active record
 * class"); `withTableName` returns a new one. Its name is a plain identifier, so it never needs escaping.
 */
export abstract class SqlTable {
  readonly tableName: string;

  protected constructor(tableName: string) {
    this.tableName = assertIdentifier(tableName, 'table name');
  }

  /** The same definition under another name (for several tables of a kind, or per-test tables). */
  abstract withTableName(tableName: string): SqlTable;
}

/**
 * A table of sequenced items: the primary key is (sequence_id, position). With a notification log,
 * every row also gets an `id` from a sequence, in commit order (see the dialect files for how). The
 * kind is part of the type, so a strategy over a snapshots table is, to the compiler, a store without
 * a notification log.
 */
export class SqlItemsTable<K extends SqlTableKind = SqlTableKind> extends SqlTable {
  readonly kind: K;
  readonly positionKind: PositionKind;
  readonly notificationLog: KeepsNotificationLog<K>;

  constructor(kind: K, tableName: string) {
    super(tableName);
    if (kind !== 'integer' && kind !== 'timestamp' && kind !== 'snapshot')
      throw new ValidationError(`kind must be integer, timestamp or snapshot, got ${String(kind)}`, 'kind');
    this.kind = kind;
    this.positionKind = kind === 'timestamp' ? 'timestamp' : 'integer';
    this.notificationLog = (kind !== 'snapshot') as KeepsNotificationLog<K>;
    Object.freeze(this);
  }

  withTableName(tableName: string): SqlItemsTable<K> {
    return new SqlItemsTable(this.kind, tableName);
  }

  /** MySQL only: the one-row table whose row lock orders the writers of the notification log. */
  get lockTableName(): string {
    return `${this.tableName}_lock`;
  }
}

/** Which notifications each projection has processed: one row per (application_name, notification_id). */
export class SqlTrackingTable extends SqlTable {
  constructor(tableName: string) {
    super(tableName);
    Object.freeze(this);
  }

  withTableName(tableName: string): SqlTrackingTable {
    return new SqlTrackingTable(tableName);
  }
}

/** Events of versioned entities: integer positions, with the application's notification log. */
export const SqlIntegerSequencedItem = new SqlItemsTable('integer', 'integer_sequenced_items');
/** Items positioned by timestamps (milliseconds, with fractions), with a notification log. */
export const SqlTimestampSequencedItem = new SqlItemsTable('timestamp', 'timestamp_sequenced_items');
/** Snapshots of entities, at integer versions; not part of any notification log. */
export const SqlSnapshot = new SqlItemsTable('snapshot', 'snapshots');
/** The tracking table of exactly-once projections (see SqlTrackingRecorder). */
export const SqlTracking = new SqlTrackingTable('tracking');

/**
 * Column types per dialect. Keys (sequence ids, application names) compare byte for byte everywhere:
 * PostgreSQL's "C" collation; on MySQL raw bytes, because its `_bin` collations ignore trailing spaces.
 */
const TYPES: Record<SqlDialectName, { key: Expression<any>; topic: Expression<any>; data: Expression<any> }> =
  {
    sqlite: { key: sql`text`, topic: sql`text`, data: sql`text` },
    postgres: { key: sql`text collate "C"`, topic: sql`text`, data: sql`text` },
    mysql: {
      key: sql`varbinary(1020)`,
      topic: sql`varchar(255) character set utf8mb4 collate utf8mb4_bin`,
      data: sql`longtext character set utf8mb4 collate utf8mb4_bin`,
    },
  };

/** The statements that create a table (and what it needs), each idempotent. */
export function createTableStatements(
  db: Kysely<SchemalessDatabase>,
  dialect: SqlDialectName,
  table: SqlTable,
): Compilable[] {
  const types = TYPES[dialect];
  const notNull = <C extends { notNull(): C }>(c: C): C => c.notNull();
  let create: CreateTableBuilder<string, string> = db.schema.createTable(table.tableName).ifNotExists();

  if (table instanceof SqlTrackingTable) {
    create = create
      .addColumn('application_name', types.key, notNull)
      .addColumn('notification_id', 'bigint', notNull)
      .addPrimaryKeyConstraint(`${table.tableName}_pkey`, ['application_name', 'notification_id']);
    return [innodb(dialect, create)];
  }
  if (!(table instanceof SqlItemsTable))
    throw new TypeError(`unknown table descriptor ${table.constructor.name}`);

  if (table.notificationLog) {
    if (dialect === 'sqlite')
      create = create.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
    if (dialect === 'postgres')
      create = create.addColumn('id', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity());
    if (dialect === 'mysql') create = create.addColumn('id', 'bigint', (c) => c.notNull().autoIncrement());
  }
  create = create
    .addColumn('sequence_id', types.key, notNull)
    .addColumn('position', table.positionKind === 'integer' ? 'bigint' : 'double precision', notNull)
    .addColumn('topic', types.topic, notNull)
    .addColumn('data', types.data, notNull);
  // SQLite keeps rows in rowid (= id) order, so there the position key is a unique index instead.
  if (dialect === 'sqlite' && table.notificationLog) {
    create = create.addUniqueConstraint(`${table.tableName}_position_key`, ['sequence_id', 'position']);
  } else {
    create = create.addPrimaryKeyConstraint(`${table.tableName}_pkey`, ['sequence_id', 'position']);
  }
  if (dialect !== 'sqlite' && table.notificationLog)
    create = create.addUniqueConstraint(`${table.tableName}_id_key`, ['id']);

  const statements: Compilable[] = [innodb(dialect, create)];
  if (dialect === 'mysql' && table.notificationLog) {
    statements.push(
      innodb(
        dialect,
        db.schema
          .createTable(table.lockTableName)
          .ifNotExists()
          .addColumn('id', 'integer', (c) => c.primaryKey()),
      ),
      db.insertInto(table.lockTableName).ignore().values({ id: 1 }),
    );
  }
  return statements;
}

/** MySQL: transactions and row locks need InnoDB, whatever the server's default engine. */
function innodb(
  dialect: SqlDialectName,
  create: CreateTableBuilder<string, string>,
): CreateTableBuilder<string, string> {
  return dialect === 'mysql' ? create.modifyEnd(sql`engine = InnoDB`) : create;
}

/** The statements that drop a table (and what it needs), each idempotent. */
export function dropTableStatements(
  db: Kysely<SchemalessDatabase>,
  dialect: SqlDialectName,
  table: SqlTable,
): Compilable[] {
  const statements: Compilable[] = [db.schema.dropTable(table.tableName).ifExists()];
  if (dialect === 'mysql' && table instanceof SqlItemsTable && table.notificationLog) {
    statements.push(db.schema.dropTable(table.lockTableName).ifExists());
  }
  return statements;
}
