import type { SequencedItem } from '@es/core';
import { Kysely, SqliteDialect, type Transaction, sql } from 'kysely';
import { type Row, type SqlConnection, runTransaction } from './connection.js';
import {
  cannotConnect,
  classify,
  mapDriverError,
  nativeBuildMissing,
  notContinuing,
  positionTaken,
} from './errors.js';
import type { SqlSettings } from './settings.js';
import type { SqlItemsTable } from './tables.js';

/**
 * The part of a better-sqlite3 database used here and by Kysely: a `Database` is one (its types stay out
 * of the public API). The user's own database may be passed to SqlDatastore as it is.
 */
export interface SqliteDatabase {
  /** The file (`:memory:` in memory): a second, read-only connection to it serves reads during transactions. */
  readonly name: string;
  readonly memory: boolean;
  prepare(source: string): SqliteStatement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): { immediate(...args: A): void };
  pragma(source: string): unknown;
  close(): void;
}
export interface SqliteStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): any[];
  /** Rows as arrays of cells, not objects (reads only: better-sqlite3 refuses it for a statement without rows). */
  raw(toggle?: boolean): SqliteStatement;
}
type Database = SqliteDatabase;
type Statement = SqliteStatement;
type Driver = new (filename: string, options: object) => Database;

/**
 * SQLite through better-sqlite3, in process: one writing connection (shared with Kysely, which locks it
 * for a transaction), and for a file a second one that reads while a transaction is open. SQLite lets
 * one writer in at a time, so ids are taken in commit order without any lock of ours. An append runs a
 * prepared insert per item in one `BEGIN IMMEDIATE` transaction, inside Kysely's connection lock, so
 * that it never lands in a transaction another caller holds open. Files use WAL. Every statement is
 * prepared once and kept.
 */
export class SqliteConnection implements SqlConnection {
  private readonly inserts = new Map<string, (items: readonly SequencedItem[]) => void>();
  private readonly statements = new WeakMap<Database, Map<string, Statement>>();
  private openTransactions = 0;

  private constructor(
    readonly settings: SqlSettings,
    readonly db: Kysely<any>,
    private readonly database: Database,
    /** A second connection to the file, for reads while a transaction is open (none in memory). */
    private readonly readOnly: Database | undefined,
    /** False for a database the user passed in: `close()` leaves it open. */
    private readonly owned: boolean,
  ) {}

  /**
   * Reads run synchronously on the writing connection, in the order they were made with the appends,
   * except while a transaction is open on it: then on the second connection, so that they neither wait
   * for the transaction (forever, when the transaction itself awaits them) nor see its rows. In memory
   * there is no second connection, and a read waits for the transaction.
   */
  async select(sql: string, params: readonly unknown[]): Promise<Row[]> {
    if (this.openTransactions === 0) return this.reader(this.database, sql).all(...params);
    if (this.readOnly !== undefined) return this.reader(this.readOnly, sql).all(...params);
    return this.db.connection().execute(async () => this.reader(this.database, sql).all(...params));
  }

  async transaction<T>(run: (trx: Transaction<any>) => Promise<T>, what: string): Promise<T> {
    this.openTransactions += 1;
    try {
      return await runTransaction(this.db, this.settings, run, what);
    } finally {
      this.openTransactions -= 1;
    }
  }

  /** A read statement, prepared once per database connection, giving rows as arrays. */
  private reader(database: Database, sql: string): Statement {
    let statements = this.statements.get(database);
    if (statements === undefined) this.statements.set(database, (statements = new Map()));
    let statement = statements.get(sql);
    if (statement === undefined) statements.set(sql, (statement = database.prepare(sql).raw(true)));
    return statement;
  }

  static open(settings: SqlSettings, Driver: Driver): SqliteConnection {
    let database: Database | undefined;
    try {
      database = new Driver(settings.filename!, { timeout: settings.lockTimeoutMs });
      if (!settings.inMemory) database.pragma('journal_mode = WAL');
      // Committed means on disk (better-sqlite3 defaults WAL to NORMAL, which may lose the last commits on power loss).
      database.pragma('synchronous = FULL');
      return SqliteConnection.connect(settings, database, Driver, true);
    } catch (error) {
      database?.close();
      throw nativeBuildMissing(error) ?? cannotConnect(settings, error);
    }
  }

  /**
   * Over a database of the user's: its pragmas (journal mode, synchronous, busy timeout) stay as they
   * are, and it is never closed. The read-only second connection to its file is the datastore's own.
   */
  static over(settings: SqlSettings, database: Database, Driver: Driver): SqliteConnection {
    try {
      return SqliteConnection.connect(settings, database, Driver, false);
    } catch (error) {
      throw nativeBuildMissing(error) ?? cannotConnect(settings, error);
    }
  }

  private static connect(
    settings: SqlSettings,
    database: Database,
    Driver: Driver,
    owned: boolean,
  ): SqliteConnection {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: database as any }) });
    if (settings.inMemory) return new SqliteConnection(settings, db, database, undefined, owned);
    const readOnly = new Driver(settings.filename!, { timeout: settings.lockTimeoutMs });
    try {
      readOnly.pragma('query_only = ON');
    } catch (error) {
      readOnly.close();
      throw error;
    }
    return new SqliteConnection(settings, db, database, readOnly, owned);
  }

  async insertItems(table: SqlItemsTable, items: readonly SequencedItem[]): Promise<void> {
    await this.db.connection().execute(async () => {
      try {
        this.insertTransaction(table)(items);
      } catch (error) {
        if (classify(error) === 'unique') throw positionTaken(items, error);
        throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.tableName}` });
      }
    });
  }

  /**
   * In a transaction Kysely holds the connection for, so the prepared insert runs in it (SQLite's one
   * writer at a time keeps ids in commit order). A batch is all or none: a statement that fails undoes
   * only itself, so the failed batch is undone with a savepoint.
   */
  async insertItemsIn(
    _trx: Transaction<any>,
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): Promise<void> {
    try {
      this.insertTransaction(table)(items);
    } catch (error) {
      if (classify(error) === 'unique') throw positionTaken(items, error);
      throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.tableName}` });
    }
  }

  /** One prepared single-row insert, run per item in one transaction: in process, rows cost no round trips. */
  private insertTransaction(table: SqlItemsTable): (items: readonly SequencedItem[]) => void {
    let insert = this.inserts.get(table.tableName);
    if (insert === undefined) {
      const row = { sequence_id: '', position: 0, topic: '', data: '' };
      const statement = this.database.prepare(this.db.insertInto(table.tableName).values(row).compile().sql);
      // Integer sequences are contiguous: checked in the append's own (immediate) transaction.
      const head =
        table.kind === 'integer'
          ? this.database.prepare(
              `select coalesce(max(position), -1) as head from "${table.tableName}" where sequence_id = ?`,
            )
          : undefined;
      const transaction = this.database.transaction((batch: readonly SequencedItem[]) => {
        if (head !== undefined) {
          const [row] = head.all(batch[0]!.sequenceId);
          if (Number(row?.head) !== batch[0]!.position - 1) throw notContinuing(batch);
        }
        for (const item of batch) statement.run(item.sequenceId, item.position, item.topic, item.data);
      });
      // Outside a transaction: BEGIN IMMEDIATE. Inside one (insertItemsIn), better-sqlite3 uses a savepoint.
      insert = (batch) => transaction.immediate(batch);
      this.inserts.set(table.tableName, insert);
    }
    return insert;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Closes the read-only connection, and the database if the datastore opened it. */
  async close(): Promise<void> {
    this.inserts.clear();
    this.readOnly?.close();
    // Kysely's `destroy` closes the database it runs on.
    if (this.owned) await this.db.destroy();
  }
}
