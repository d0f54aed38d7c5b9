import { type SequencedItem, SettingsError } from '@es/core';
import type { Kysely } from 'kysely';
import type { SqlDialectName, SqlSettings } from './settings.js';
import type { SqlItemsTable } from './tables.js';
import { MysqlConnection } from './mysql.js';
import { PostgresConnection } from './postgres.js';
import { SqliteConnection } from './sqlite.js';

/**
 * An open database: a Kysely instance for everything dialect-agnostic (reads, tables, tracking
 * transactions), plus the one thing each dialect does its own way, the ordered append.
 */
export interface SqlConnection {
  readonly settings: SqlSettings;
  readonly db: Kysely<any>;
  /**
   * Inserts the items of one sequence atomically, in one round trip where the driver allows. Rows of the
   * notification log get ids in commit order: a follower never misses a row that commits late. A taken
   * position rejects the whole batch with ConcurrencyError.
   */
  insertItems(table: SqlItemsTable, items: readonly SequencedItem[]): Promise<void>;
  /** A key column (sequence id, application name) as a string: MySQL returns its bytes. */
  text(value: unknown): string;
  /** One round trip, to check that the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

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
    if ((code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && String((error as Error).message).includes(name)) {
      throw new SettingsError(
        `the ${dialect} dialect needs the package "${name}", which is not installed: run \`npm install ${name}\` (or pnpm add / yarn add)`,
        'dialect',
        { cause: error },
      );
    }
    throw error;
  }
}

/** Opens a pool (or, for SQLite, the database file) for the settings' dialect. */
export async function openConnection(settings: SqlSettings): Promise<SqlConnection> {
  const driver = await loadDriver(settings.dialect);
  switch (settings.dialect) {
    case 'sqlite':
      return SqliteConnection.open(settings, driver);
    case 'postgres':
      return PostgresConnection.open(settings, driver);
    case 'mysql':
      return MysqlConnection.open(settings, driver);
  }
}
