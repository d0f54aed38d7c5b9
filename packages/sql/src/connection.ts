import { type ConcurrencyError, type SequencedItem, SettingsError } from '@es/core';
import { type Kysely, type Transaction, sql } from 'kysely';
import { mapDriverError, reportedByDatabase } from './errors.js';
import type { GroupLimits } from './group-commit.js';
import type { SqlDialectName, SqlSettings } from './settings.js';
import type { SqlItemsTable, SchemalessDatabase } from './tables.js';

/**
 * An open database: a Kysely instance for everything dialect-agnostic (reads, tables, tracking
 * transactions), plus the one thing each dialect does its own way, the ordered append.
 */
export interface SqlConnection {
  readonly settings: SqlSettings;
  /** Kysely over the pool: for tables, transactions, and compiling the statements the store runs. */
  readonly db: Kysely<SchemalessDatabase>;
  /**
   * The rows of a read statement (SQL compiled once by Kysely), prepared once per connection: a cached
   * better-sqlite3 statement, a named PostgreSQL statement, a server-side MySQL prepared statement.
   * Never inside another caller's open transaction, and without seeing its rows.
   *
   * Each row is an array of its cells in the order of the statement's select list (better-sqlite3's
   * `raw(true)`, pg's `rowMode: 'array'`, mysql2's `rowsAsArray`): a load reads thousands of rows, and
   * an object per row, keyed by column name, cost a third of the driver's time on SQLite.
   */
  select(sql: string, params: readonly unknown[]): Promise<Row[]>;
  /**
   * Runs `run` in a transaction: commits when it resolves, rolls back when it throws (and rethrows).
   * A commit whose connection is lost gives OutcomeUnknownError.
   */
  transaction<T>(run: (trx: Transaction<SchemalessDatabase>) => Promise<T>, what: string): Promise<T>;
  /**
   * Inserts the items of one sequence atomically, in one round trip where the driver allows. Rows of the
   * notification log get ids in commit order: a follower never misses a row that commits late. A taken
   * position rejects the whole batch with ConcurrencyError.
   */
  insertItems(table: SqlItemsTable, items: readonly SequencedItem[]): Promise<void>;
  /**
   * Appends several sequences' batches as ONE commit (one ordering lock, one fsync), each batch keeping
   * its own contiguity/position check: resolves with one outcome per batch, in order — undefined when the
   * batch is stored, or that batch's own ConcurrencyError (notContinuing / positionTaken) when it is not
   * (the other batches are still stored). Every batch names a different sequence id. Rejects for all
   * batches on anything else (OutcomeUnknownError, StoreConnectionError, ...), as insertItems does; a
   * rejection with ConcurrencyError means a position was taken but the database cannot say whose, and
   * nothing was stored (the group committer then appends the batches one by one: see group-commit.ts).
   * A dialect implements it where sharing a commit pays: PostgreSQL (one statement for the group) and
   * SQLite (one transaction, one fsync). Not MySQL/MariaDB: InnoDB releases the lock row before the
   * commit's log flush and already flushes concurrent commits together, so a group saves no flush there;
   * a group as a statement per batch, and as one statement for the group, both measured slower than
   * separate appends (docs/benchmarks.md, "MariaDB appends" and "Round 2c: MariaDB"); they go one by one.
   */
  insertBatches?(
    table: SqlItemsTable,
    batches: readonly (readonly SequencedItem[])[],
  ): Promise<(ConcurrencyError | undefined)[]>;
  /** The group committer's limits for this connection's appends (default DEFAULT_GROUP_LIMITS). */
  readonly groupLimits?: GroupLimits;
  /**
   * The same, inside a transaction that `transaction` opened (a process recorder's): the rows commit
   * with it, and their ids are still drawn in commit order (the table's ordering lock is taken in the
   * transaction, and held until it ends).
   */
  insertItemsIn(
    trx: Transaction<SchemalessDatabase>,
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): Promise<void>;
  /** One round trip, to check that the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A row of a read: its cells, in the order of the statement's select list. */
export type Row = readonly unknown[];

const DRIVERS: Record<SqlDialectName, string> = { sqlite: 'better-sqlite3', postgres: 'pg', mysql: 'mysql2' };
const IMPORTS: Record<SqlDialectName, () => Promise<any>> = {
  sqlite: () => import('better-sqlite3'),
  postgres: () => import('pg'),
  mysql: () => import('mysql2'),
};

/**
 * Loads a driver only when its dialect is chosen: a user installs just the one for their database. A
 * missing driver is a SettingsError that names the package to install.
 */
export async function loadDriver(dialect: SqlDialectName): Promise<any> {
  const name = DRIVERS[dialect];
  try {
    const module = await IMPORTS[dialect]();
    return module.default ?? module;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (
      (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
      String((error as Error).message).includes(name)
    ) {
      throw new SettingsError(
        `the ${dialect} dialect needs the package "${name}", which is not installed: run \`npm install ${name}\` (or pnpm add / yarn add)`,
        'dialect',
        { cause: error },
      );
    }
    throw error;
  }
}

/** The transaction of every dialect (SQLite adds its bookkeeping around it). */
/** What the caller's own code threw inside a transaction (see asCaller): it passes through unmapped. */
const callersErrors = new WeakSet<object>();

/**
 * Runs the caller's code inside a transaction, marking what it throws as the caller's, unless the
 * database reported it (a statement the caller ran on the transaction: a full disk, a lock timeout):
 * runTransaction maps those and the errors of the store's own statements, never the caller's others,
 * whatever their `code` (an HTTP client's ECONNRESET is not the store's connection).
 */
export async function asCaller<T>(run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (typeof error === 'object' && error !== null && !reportedByDatabase(error)) callersErrors.add(error);
    throw error;
  }
}

export async function runTransaction<T>(
  db: Kysely<SchemalessDatabase>,
  settings: SqlSettings,
  run: (trx: Transaction<SchemalessDatabase>) => Promise<T>,
  what: string,
): Promise<T> {
  let trx;
  try {
    trx = await db.startTransaction().execute();
  } catch (error) {
    throw mapDriverError(settings, error, { write: false, what: `starting a transaction for ${what}` });
  }
  let committing = false;
  try {
    const result = await run(trx);
    committing = true;
    await trx.commit().execute();
    return result;
  } catch (error) {
    // Also after a failed commit: it releases the connection (the pool discards a broken one).
    await trx
      .rollback()
      .execute()
      .catch(() => {});
    // A commit that failed outright was rolled back by the database; one whose connection broke may not have been.
    // Before the commit, nothing was applied: a driver's error from `run`'s statements is mapped as a read's
    // (a full disk, a lost connection); the caller's own errors pass through as they are.
    throw committing
      ? mapDriverError(settings, error, { write: true, what: `the commit of ${what}` })
      : callersErrors.has(error as object)
        ? error
        : mapDriverError(settings, error, { write: false, what });
  }
}

/**
 * What the server dialects (PostgreSQL, MySQL) share: transactions, ping and close over Kysely on their
 * pool. Each adds its own reads and ordered append.
 */
export abstract class KyselyConnection implements SqlConnection {
  protected constructor(
    readonly settings: SqlSettings,
    readonly db: Kysely<SchemalessDatabase>,
    /** False for a pool the user passed in: `close()` leaves it open. */
    private readonly owned: boolean,
  ) {}

  abstract select(sql: string, params: readonly unknown[]): Promise<Row[]>;
  abstract insertItems(table: SqlItemsTable, items: readonly SequencedItem[]): Promise<void>;
  abstract insertItemsIn(
    trx: Transaction<SchemalessDatabase>,
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): Promise<void>;

  transaction<T>(run: (trx: Transaction<SchemalessDatabase>) => Promise<T>, what: string): Promise<T> {
    return runTransaction(this.db, this.settings, run, what);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Ends the pool, if the datastore made it (Kysely's `destroy` ends the pool it runs on). */
  async close(): Promise<void> {
    if (this.owned) await this.db.destroy();
  }
}
