import { SettingsError } from '@es/core';
import { type SqlConnection, loadDriver } from './connection.js';
import { MysqlConnection, type MysqlPool } from './mysql.js';
import { PostgresConnection, type PostgresPool } from './postgres.js';
import { type SqlDialectName, SqlSettings } from './settings.js';
import { SqliteConnection, type SqliteDatabase } from './sqlite.js';

/**
 * A pool or database the user made, for `new SqlDatastore({ client })` (as Kysely and Drizzle take
 * one): a `pg.Pool`, a mysql2 pool (`createPool`, the callback API), a better-sqlite3 `Database`.
 *
 * The user keeps it: the datastore uses it as it is and never ends or closes it (`datastore.close()`
 * releases only what the datastore opened itself). It also keeps its own settings: the datastore's
 * session settings (PostgreSQL's `lock_timeout`, MySQL's strict `sql_mode` and lock wait timeout,
 * SQLite's WAL and `synchronous = FULL`) apply only to pools it makes from SqlSettings.
 */
export type SqlClient =
  | { readonly dialect: 'postgres'; readonly pool: PostgresPool }
  | { readonly dialect: 'mysql'; readonly pool: MysqlPool }
  | { readonly dialect: 'sqlite'; readonly database: SqliteDatabase };

const DIALECTS: readonly SqlDialectName[] = ['sqlite', 'postgres', 'mysql'];

/** Checks the client option's shape, so that a mistake is a SettingsError and not a later TypeError. */
export function validateClient(client: SqlClient): SqlClient {
  const given = client as { dialect?: unknown; pool?: unknown; database?: unknown } | null;
  const dialect = given?.dialect;
  if (!DIALECTS.includes(dialect as SqlDialectName)) {
    throw new SettingsError(
      `client.dialect must be one of ${DIALECTS.join(', ')}, got ${JSON.stringify(dialect)}`,
      'client.dialect',
    );
  }
  const [field, method] =
    dialect === 'sqlite'
      ? ['database', 'prepare']
      : dialect === 'postgres'
        ? ['pool', 'connect']
        : ['pool', 'getConnection'];
  const value = (given as Record<string, unknown>)[field] as Record<string, unknown> | undefined;
  if (typeof value?.[method] !== 'function') {
    throw new SettingsError(
      `client.${field} must be a ${dialect === 'sqlite' ? 'better-sqlite3 Database' : dialect === 'postgres' ? 'pg Pool' : 'mysql2 pool (callback API)'}`,
      `client.${field}`,
    );
  }
  return client;
}

/**
 * Settings that describe a client (for error messages, and for SQLite the file its read-only second
 * connection opens), from what the driver tells of its configuration; defaults where it tells nothing.
 */
export function settingsOf(client: SqlClient): SqlSettings {
  if (client.dialect === 'sqlite') {
    const { name, memory } = client.database;
    return new SqlSettings({ dialect: 'sqlite', filename: memory || !name ? ':memory:' : name });
  }
  // pg keeps its options on `options`; mysql2 on `config.connectionConfig`.
  const raw = client.pool as {
    options?: Record<string, unknown>;
    config?: { connectionConfig?: Record<string, unknown> };
  };
  const config = (client.dialect === 'postgres' ? raw.options : raw.config?.connectionConfig) ?? {};
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value !== '' && !value.includes('\0') ? value : undefined;
  const fromUrl = parsedUrl(text(config.connectionString) ?? text(config.uri));
  const port = Number(fromUrl.port ?? config.port);
  return new SqlSettings({
    dialect: client.dialect,
    host: fromUrl.host ?? text(config.host) ?? 'localhost',
    port: Number.isSafeInteger(port) && port > 0 && port < 65536 ? port : undefined,
    user: fromUrl.user ?? text(config.user) ?? (client.dialect === 'mysql' ? 'root' : 'postgres'),
    database: fromUrl.database ?? text(config.database) ?? '(the default database)',
  });
}

function parsedUrl(url: string | undefined): {
  host?: string;
  port?: string;
  user?: string;
  database?: string;
} {
  if (url === undefined) return {};
  try {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    return {
      ...(u.hostname ? { host: u.hostname.replace(/^\[(.*)\]$/, '$1') } : {}),
      ...(u.port ? { port: u.port } : {}),
      ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
      ...(database ? { database } : {}),
    };
  } catch {
    return {};
  }
}

/** Opens a pool (or, for SQLite, the database file) for the settings, or wraps the user's client. */
export async function openConnection(settings: SqlSettings, client?: SqlClient): Promise<SqlConnection> {
  if (client?.dialect === 'postgres') return PostgresConnection.over(settings, client.pool);
  if (client?.dialect === 'mysql') return MysqlConnection.over(settings, client.pool);
  const driver = await loadDriver(settings.dialect);
  if (client?.dialect === 'sqlite') return SqliteConnection.over(settings, client.database, driver);
  switch (settings.dialect) {
    case 'sqlite':
      return SqliteConnection.open(settings, driver);
    case 'postgres':
      return PostgresConnection.open(settings, driver);
    case 'mysql':
      return MysqlConnection.open(settings, driver);
  }
}
