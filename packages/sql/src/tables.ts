import { assertIdentifier, type PositionKind } from '@es/core';
import { type Compilable, type CreateTableBuilder, type Expression, type Kysely, sql } from 'kysely';
import type { SqlDialectName } from './settings.js';

/** A table the datastore creates and drops. Its name is a plain identifier, so it never needs escaping. */
export abstract class SqlTable {
  readonly name: string;

  constructor(name: string) {
    this.name = assertIdentifier(name, 'table name');
  }
}

/**
 * A table of sequenced items: the primary key is (sequence_id, position). With a notification log,
 * every row also gets an `id` from a sequence, in commit order (see the dialects for how).
 */
export class SqlItemsTable extends SqlTable {
  constructor(
    name: string,
    readonly positionKind: PositionKind,
    readonly notificationLog: boolean,
  ) {
    super(name);
  }

  /** MySQL only: the one-row table whose row lock orders the writers of the notification log. */
  get lockTableName(): string {
    return `${this.name}_lock`;
  }
}

/** Events of versioned entities: integer positions, with the application's notification log. */
export class SqlIntegerSequencedItem extends SqlItemsTable {
  constructor(name = 'integer_sequenced_items') {
    super(name, 'integer', true);
  }
}

/** Items positioned by timestamps (milliseconds, with fractions), with a notification log. */
export class SqlTimestampSequencedItem extends SqlItemsTable {
  constructor(name = 'timestamp_sequenced_items') {
    super(name, 'timestamp', true);
  }
}

/** Snapshots of entities, at integer versions; not part of any notification log. */
export class SqlSnapshot extends SqlItemsTable {
  constructor(name = 'snapshots') {
    super(name, 'integer', false);
  }
}

/** Which notifications each projection has processed: one row per (application_name, notification_id). */
export class SqlTracking extends SqlTable {
  constructor(name = 'tracking') {
    super(name);
  }
}

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
  db: Kysely<any>,
  dialect: SqlDialectName,
  table: SqlTable,
): Compilable[] {
  const types = TYPES[dialect];
  const notNull = <C extends { notNull(): C }>(c: C): C => c.notNull();
  let create: CreateTableBuilder<string, string> = db.schema.createTable(table.name).ifNotExists();

  if (table instanceof SqlTracking) {
    create = create
      .addColumn('application_name', types.key, notNull)
      .addColumn('notification_id', 'bigint', notNull)
      .addPrimaryKeyConstraint(`${table.name}_pkey`, ['application_name', 'notification_id']);
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
    create = create.addUniqueConstraint(`${table.name}_position_key`, ['sequence_id', 'position']);
  } else {
    create = create.addPrimaryKeyConstraint(`${table.name}_pkey`, ['sequence_id', 'position']);
  }
  if (dialect !== 'sqlite' && table.notificationLog)
    create = create.addUniqueConstraint(`${table.name}_id_key`, ['id']);

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
export function dropTableStatements(db: Kysely<any>, dialect: SqlDialectName, table: SqlTable): Compilable[] {
  const statements: Compilable[] = [db.schema.dropTable(table.name).ifExists()];
  if (dialect === 'mysql' && table instanceof SqlItemsTable && table.notificationLog) {
    statements.push(db.schema.dropTable(table.lockTableName).ifExists());
  }
  return statements;
}
