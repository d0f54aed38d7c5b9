import { SettingsError } from '@es/core';
import { InFlight } from '@es/core/backend';
import type { Kysely, Transaction } from 'kysely';
import { type SqlClient, openConnection, settingsOf, validateClient } from './client.js';
import { asCaller, type SqlConnection } from './connection.js';
import { mapDriverError } from './errors.js';
import { SqlSettings } from './settings.js';
import {
  type SqlTable,
  createTableStatements,
  dropTableStatements,
  type SchemalessDatabase,
} from './tables.js';

export interface SqlDatastoreOptions {
  /**
   * Where the database is. Default: `new SqlSettings()` (ES_SQL_URL, else SQLite in memory); with
   * `client`, what the client's driver says of it (the settings then only describe it, in messages).
   */
  settings?: SqlSettings;
  /**
   * A pool or database of your own, instead of one the datastore opens from `settings` (see
   * SqlClient). The datastore never ends or closes it: its owner does, after `datastore.close()`.
   */
  client?: SqlClient;
  /** The tables `setupTables()` creates and `dropTables()` drops. */
  tables?: readonly SqlTable[];
}

/**
 * The seed's datastore: where the database is and which tables it holds. `setupConnection()` opens the
 * pool (and checks that the database answers); strategies open it on first use when it was not called.
 * Given a `client`, it uses that pool or database instead of opening one.
 */
export class SqlDatastore {
  readonly settings: SqlSettings;
  readonly tables: readonly SqlTable[];
  /** The user's pool or database, when one was passed in: the datastore never closes it. */
  readonly client: SqlClient | undefined;
  private opening: Promise<SqlConnection> | undefined;
  private opened: SqlConnection | undefined;
  private readonly operations = new InFlight(
    () => `the ${this.settings.dialect} datastore at ${this.settings}`,
  );

  constructor(options: SqlDatastoreOptions = {}) {
    this.client = options.client === undefined ? undefined : validateClient(options.client);
    this.settings = options.settings ?? (this.client ? settingsOf(this.client) : new SqlSettings());
    if (this.client !== undefined && this.client.dialect !== this.settings.dialect) {
      throw new SettingsError(
        `the client is a ${this.client.dialect} ${this.client.dialect === 'sqlite' ? 'database' : 'pool'}, but the settings say ${this.settings.dialect}`,
        'client.dialect',
      );
    }
    this.tables = options.tables ?? [];
  }

  /**
   * What `console.log` and `util.inspect` show: where the database is and which tables, never the
   * pool (a driver's pool keeps the password in its options).
   */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const tables = this.tables.map((t) => t.tableName).join(', ');
    return `SqlDatastore { ${this.settings}${this.client ? ' (your own client)' : ''}; tables: ${tables || 'none'} }`;
  }

  toJSON(): { settings: string; tables: string[] } {
    return { settings: this.settings.toString(), tables: this.tables.map((t) => t.tableName) };
  }

  /**
   * A datastore that is connected and has its tables: `setupConnection()` then `setupTables()`, closing
   * the pool again if either fails.
   */
  static async open(options: SqlDatastoreOptions = {}): Promise<SqlDatastore> {
    const datastore = new SqlDatastore(options);
    try {
      await datastore.setupConnection();
      await datastore.setupTables();
    } catch (error) {
      await datastore.close();
      throw error;
    }
    return datastore;
  }

  /** Opens the connection pool once and checks that the database answers (StoreConnectionError if not). */
  async setupConnection(): Promise<void> {
    await this.use(async () => undefined);
  }

  /** Creates the tables that do not exist yet. Safe to call again. */
  async setupTables(): Promise<void> {
    await this.use(async (connection) => {
      for (const table of this.tables) {
        for (const statement of createTableStatements(connection.db, this.settings.dialect, table)) {
          await this.run(connection, statement, `creating table ${table.tableName}`);
        }
      }
    });
  }

  /** Drops the tables, and everything in them. */
  async dropTables(): Promise<void> {
    await this.use(async (connection) => {
      for (const table of this.tables) {
        for (const statement of dropTableStatements(connection.db, this.settings.dialect, table)) {
          await this.run(connection, statement, `dropping table ${table.tableName}`);
        }
      }
    });
  }

  /**
   * The Kysely instance over this datastore's pool, for read models and tracking transactions. Only
   * after `setupConnection()`.
   */
  get db(): Kysely<SchemalessDatabase> {
    this.operations.check();
    if (this.opened === undefined)
      throw new Error('SqlDatastore: call and await setupConnection() before using db');
    return this.opened.db;
  }

  /**
   * Runs `run` in a transaction on this datastore: committed when it resolves, rolled back when it
   * throws. Prefer it to `db.transaction()`: on SQLite, reads of the store keep working while it is open.
   */
  transaction<T>(run: (trx: Transaction<SchemalessDatabase>) => Promise<T>): Promise<T> {
    return this.use((connection) =>
      connection.transaction((trx) => asCaller(() => run(trx)), 'a transaction'),
    );
  }

  /** `await using datastore = ...`: the same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** True once close() has finished: every use is refused with StoreClosedError (from @es/core) from then on. */
  get closed(): boolean {
    return this.operations.isClosed;
  }

  /**
   * Lets every operation in flight finish (and the writes queued behind them, so that closing without
   * `await` loses nothing), then closes the pool the datastore opened (a SQLite database in memory is
   * gone afterwards). From then on every use rejects with StoreClosedError: the pool is never reopened.
   * A client passed in stays open: only what the datastore opened around it is released.
   */
  close(): Promise<void> {
    return this.operations.close(async () => {
      const opening = this.opening;
      this.opening = undefined;
      if (opening) await (await opening.catch(() => undefined))?.close();
      this.opened = undefined;
    });
  }

  /** Runs an operation on the open connection (opened on first use); close() waits for it. @internal */
  use<T>(operation: (connection: SqlConnection) => Promise<T>): Promise<T> {
    // Open (the common case): no await of the connection's promise, whose turn cost every read.
    const opened = this.opened;
    if (opened !== undefined) return this.operations.run(() => operation(opened));
    return this.operations.run(async () => operation(await this.connection()));
  }

  /** The open connection, opened on first use. @internal */
  connection(): Promise<SqlConnection> {
    try {
      this.operations.check();
    } catch (error) {
      return Promise.reject(error);
    }
    // A failed attempt is not kept: the next call tries again.
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async open(): Promise<SqlConnection> {
    const connection = await openConnection(this.settings, this.client);
    try {
      await connection.ping();
    } catch (error) {
      await connection.close().catch(() => {});
      throw mapDriverError(this.settings, error, { write: false, what: 'connecting' });
    }
    this.opened = connection;
    return connection;
  }

  private async run(connection: SqlConnection, statement: { compile(): any }, what: string): Promise<void> {
    try {
      await connection.db.executeQuery(statement.compile());
    } catch (error) {
      throw mapDriverError(this.settings, error, { write: true, what });
    }
  }
}
