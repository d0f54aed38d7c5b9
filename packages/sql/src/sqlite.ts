import { ConcurrencyError, type SequencedItem } from '@es/core';
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
import type { SqlItemsTable, SchemalessDatabase } from './tables.js';

/**
 * The part of a better-sqlite3 database used here and by Kysely: a `Database` is one (its types stay out
 * of the public API). The user's own database may be passed to SqlDatastore as it is.
 */
export interface SqliteDatabase {
  /** The file (`:memory:` in memory): a second, read-only connection to it serves reads during transactions. */
  readonly name: string;
  readonly memory: boolean;
  /** True while a transaction is open on this connection (an append then waits for it to end). */
  readonly inTransaction: boolean;
  prepare(source: string): SqliteStatement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): { immediate(...args: A): void };
  pragma(source: string): unknown;
  close(): void;
}
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  // `any[]`: better-sqlite3's own type (arrays in raw mode, objects otherwise); a real Statement must fit it.
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
 * one writer in at a time, so ids are taken in commit order without any lock of ours. An append is one
 * autocommitted insert statement with its contiguity check (see SqliteAppends), run at once unless a
 * transaction another caller holds is open on the connection, which it then waits for. Files use WAL.
 * Every statement is prepared once and kept.
 */
export class SqliteConnection implements SqlConnection {
  private readonly appends = new Map<string, SqliteAppends>();
  private readonly statements = new WeakMap<Database, Map<string, Statement>>();
  private openTransactions = 0;

  private constructor(
    readonly settings: SqlSettings,
    readonly db: Kysely<SchemalessDatabase>,
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
  select(sql: string, params: readonly unknown[]): Promise<Row[]> {
    // Not `async`: the rows are there at once, and a resolved promise is all a caller needs.
    try {
      // The array itself, not spread: better-sqlite3 binds an array's elements in order.
      if (this.openTransactions === 0) return Promise.resolve(this.reader(this.database, sql).all(params));
      if (this.readOnly !== undefined) return Promise.resolve(this.reader(this.readOnly, sql).all(params));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.db.connection().execute(async () => this.reader(this.database, sql).all(params));
  }

  async transaction<T>(run: (trx: Transaction<SchemalessDatabase>) => Promise<T>, what: string): Promise<T> {
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
    const db = new Kysely<SchemalessDatabase>({ dialect: new SqliteDialect({ database: database as any }) });
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
    const appends = this.appendsTo(table);
    await this.whenNoTransaction(() => {
      try {
        appends.write(items);
      } catch (error) {
        throw appends.failure(items, error);
      }
    });
  }

  /**
   * Several sequences' batches in one `BEGIN IMMEDIATE` transaction, so one commit (one fsync) for all.
   * A batch's statement that finds its sequence moved on (or a position taken) inserts nothing, and the
   * others go on: each batch gets its own outcome. A batch of more than one statement runs under a
   * savepoint, undone alone. Anything else (the write lock not had in time, a full disk) undoes all.
   */
  async insertBatches(
    table: SqlItemsTable,
    batches: readonly (readonly SequencedItem[])[],
  ): Promise<(ConcurrencyError | undefined)[]> {
    const appends = this.appendsTo(table);
    return this.whenNoTransaction(() => {
      try {
        return batches.length === 1 ? [appends.outcome(batches[0]!)] : appends.group(batches);
      } catch (error) {
        throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.tableName}` });
      }
    });
  }

  /** In a transaction Kysely holds the connection for: the statements run in it. */
  async insertItemsIn(
    _trx: Transaction<SchemalessDatabase>,
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): Promise<void> {
    const appends = this.appendsTo(table);
    try {
      appends.write(items);
    } catch (error) {
      throw appends.failure(items, error);
    }
  }

  /**
   * Runs `write` (synchronous) at once when no transaction is open on the writing connection: nothing
   * else can run on it until `write` returns, so the statement commits on its own, and Kysely's lock
   * (which costs a Kysely instance per use) is not needed. While a transaction is open (a process
   * recorder's, awaiting its follower's work), an autocommitted statement would land in it: `write` then
   * waits for the connection under Kysely's lock, which the transaction holds until it ends.
   */
  private async whenNoTransaction<T>(write: () => T): Promise<T> {
    if (!this.database.inTransaction) return write();
    return this.db.connection().execute(async () => write());
  }

  private appendsTo(table: SqlItemsTable): SqliteAppends {
    let appends = this.appends.get(table.tableName);
    if (appends === undefined)
      this.appends.set(table.tableName, (appends = new SqliteAppends(this.settings, this.database, table)));
    return appends;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Closes the read-only connection, and the database if the datastore opened it. */
  async close(): Promise<void> {
    this.appends.clear();
    this.readOnly?.close();
    // Kysely's `destroy` closes the database it runs on.
    if (this.owned) await this.db.destroy();
  }
}

/**
 * The most rows one insert statement takes. A batch up to this size is one statement, prepared once
 * per size (so at most this many statements per table); a longer batch is several, in a transaction.
 */
const ROWS_PER_STATEMENT = 100;

/**
 * The appends to one table on the writing connection. A batch is ONE insert of all its rows from a
 * VALUES list, which on an integer table inserts only when the batch's first position is one past the
 * sequence's last: the contiguity check is in the statement, as on PostgreSQL, and a batch that fails
 * it inserts nothing (`changes` says so). One statement is atomic, and outside a transaction it commits
 * by itself: no BEGIN, head read and COMMIT of its own, and one call into the driver for the batch
 * instead of one per row. An INSERT takes the file's write lock before it reads, and SQLite lets one
 * writer in at a time, so the check sees the head the insert writes after, and ids are drawn in commit
 * order.
 */
class SqliteAppends {
  /** Insert statements by number of rows. */
  private readonly statements: Statement[] = [];
  private readonly contiguous: boolean;
  /** A batch longer than one statement: its statements in one transaction (a savepoint inside one). */
  private readonly chunked: { immediate(items: readonly SequencedItem[]): void };
  private readonly grouped: {
    immediate(
      batches: readonly (readonly SequencedItem[])[],
      outcomes: (ConcurrencyError | undefined)[],
    ): void;
  };

  constructor(
    private readonly settings: SqlSettings,
    private readonly database: Database,
    private readonly table: SqlItemsTable,
  ) {
    this.contiguous = table.kind === 'integer';
    this.chunked = database.transaction((items: readonly SequencedItem[]) => {
      for (let from = 0; from < items.length; from += ROWS_PER_STATEMENT)
        this.insert(items, from, Math.min(items.length, from + ROWS_PER_STATEMENT));
    });
    this.grouped = database.transaction(
      (batches: readonly (readonly SequencedItem[])[], outcomes: (ConcurrencyError | undefined)[]) => {
        for (const batch of batches) outcomes.push(this.outcome(batch));
      },
    );
  }

  /**
   * Writes one batch, all or none. Throws the batch's ConcurrencyError, or the driver's error. Inside
   * an open transaction the rows are part of it (a longer batch then runs under a savepoint).
   */
  write(items: readonly SequencedItem[]): void {
    if (items.length <= ROWS_PER_STATEMENT) this.insert(items, 0, items.length);
    else this.chunked.immediate(items);
  }

  /** `write`, with the batch's ConcurrencyError as its outcome; any other error is thrown. */
  outcome(items: readonly SequencedItem[]): ConcurrencyError | undefined {
    try {
      this.write(items);
      return undefined;
    } catch (error) {
      const concurrency = this.concurrencyError(items, error);
      if (concurrency === undefined) throw error;
      return concurrency;
    }
  }

  /** Each batch's outcome, all in one immediate transaction (one commit); any other error undoes all. */
  group(batches: readonly (readonly SequencedItem[])[]): (ConcurrencyError | undefined)[] {
    const outcomes: (ConcurrencyError | undefined)[] = [];
    this.grouped.immediate(batches, outcomes);
    return outcomes;
  }

  /** The error an append of `items` that threw `error` rejects with. */
  failure(items: readonly SequencedItem[], error: unknown): unknown {
    return (
      this.concurrencyError(items, error) ??
      mapDriverError(this.settings, error, { write: true, what: `an append to ${this.table.tableName}` })
    );
  }

  private concurrencyError(items: readonly SequencedItem[], error: unknown): ConcurrencyError | undefined {
    if (ConcurrencyError.isInstance(error)) return error;
    return classify(error) === 'unique' ? positionTaken(items, error) : undefined;
  }

  /** Inserts `items[from..to)` in one statement (with the contiguity check on an integer table). */
  private insert(items: readonly SequencedItem[], from: number, to: number): void {
    const rows = to - from;
    const params: unknown[] = new Array(3 * rows + (this.contiguous ? 3 : 1));
    const sequenceId = items[0]!.sequenceId;
    params[0] = sequenceId;
    let p = 1;
    for (let i = from; i < to; i++) {
      const item = items[i]!;
      params[p++] = item.position;
      params[p++] = item.topic;
      params[p++] = item.data;
    }
    if (this.contiguous) {
      params[p++] = sequenceId;
      params[p] = items[from]!.position - 1;
    }
    const { changes } = this.statement(rows).run(params);
    if (this.contiguous && changes === 0) throw notContinuing(items);
  }

  private statement(rows: number): Statement {
    let statement = this.statements[rows];
    if (statement === undefined) {
      const name = this.table.tableName;
      const values = Array.from({ length: rows }, () => '(?, ?, ?)').join(', ');
      // Rows are inserted in the order of the list, so a batch's ids follow its positions.
      const insert = `insert into "${name}" (sequence_id, position, topic, data) select ?, column1, column2, column3 from (values ${values})`;
      const continues = ` where (select coalesce(max(position), -1) from "${name}" where sequence_id = ?) = ?`;
      this.statements[rows] = statement = this.database.prepare(
        this.contiguous ? insert + continues : insert,
      );
    }
    return statement;
  }
}
