import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, describeIfAvailable, requireServer } from '@es/testing';
import {
  type SqlDialectName,
  SqlDatastore,
  SqlSettings,
  type SqlSettingsOptions,
  type SqlTable,
} from '../src/index.js';

/**
 * The databases every test file runs against, in one loop: SQLite in process (a file in a temp dir),
 * PostgreSQL and MariaDB/MySQL servers. `ES_SQL_DIALECTS=sqlite,postgres` narrows the loop; the
 * server URLs can be moved with ES_SQL_TEST_POSTGRES_URL and ES_SQL_TEST_MYSQL_URL.
 */
export interface TestDialect {
  readonly name: SqlDialectName;
  readonly url: string;
  /** Settings for this database, with overrides. */
  settings(overrides?: SqlSettingsOptions): SqlSettings;
}

const SERVERS = {
  postgres: {
    title: 'PostgreSQL',
    url: process.env.ES_SQL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    howToStart:
      '`service postgresql start` (user postgres, trust auth, database test), or ' +
      '`docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:15`',
  },
  mysql: {
    title: 'MariaDB/MySQL',
    url: process.env.ES_SQL_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
    howToStart:
      '`service mariadb start` (root without password, database test), or ' +
      '`docker run -d -p 3306:3306 -e MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1 -e MARIADB_DATABASE=test mariadb:10.11`',
  },
} as const;

const ALL: readonly SqlDialectName[] = ['sqlite', 'postgres', 'mysql'];

function selectedDialects(): SqlDialectName[] {
  const wanted = (process.env.ES_SQL_DIALECTS ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  const unknown = wanted.filter((d) => !ALL.includes(d as SqlDialectName));
  if (unknown.length > 0)
    throw new Error(`ES_SQL_DIALECTS: unknown dialect(s) ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
  if (wanted.length > 0 && wanted.length < ALL.length && /^(true|1)$/.test(process.env.CI ?? '')) {
    throw new Error(`ES_SQL_DIALECTS=${wanted.join(',')} would skip a database under CI=true: unset it`);
  }
  return wanted.length === 0 ? [...ALL] : (wanted as SqlDialectName[]);
}

/** Asked once per server and test file (a file may define several loops). */
const serverAvailable = new Map<string, boolean>();

let sqliteDirectory: string | undefined;
function sqliteUrl(): string {
  if (sqliteDirectory === undefined) {
    const directory = mkdtempSync(join(tmpdir(), 'es-sql-test-'));
    sqliteDirectory = directory;
    afterAll(() => rmSync(directory, { recursive: true, force: true }));
  }
  return `sqlite:${join(sqliteDirectory, 'es.db')}`;
}

/**
 * Defines `define(dialect)` inside a describe per selected dialect. A server that does not answer
 * fails the file under CI=true and is skipped loudly otherwise (see @es/testing's requireServer).
 */
export function describeEachDialect(
  title: string,
  define: (dialect: TestDialect) => void,
  options: { only?: readonly SqlDialectName[] } = {},
): void {
  for (const name of selectedDialects().filter((d) => options.only?.includes(d) ?? true)) {
    let available = true;
    let url: string;
    if (name === 'sqlite') {
      url = sqliteUrl();
    } else {
      const server = SERVERS[name as keyof typeof SERVERS];
      url = server.url;
      const settings = new SqlSettings(url);
      available =
        serverAvailable.get(url) ??
        requireServer(
          `${server.title} (${settings})`,
          () => canConnect(settings.host!, settings.port!),
          server.howToStart,
        );
      serverAvailable.set(url, available);
    }
    const dialect: TestDialect = {
      name,
      url,
      settings: (overrides = {}) => new SqlSettings({ url, ...overrides }),
    };
    describeIfAvailable(available, `${name}: ${title}`, () => define(dialect));
  }
}

/** A table name no other test file (running in parallel) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/**
 * A datastore over the given tables, set up in `beforeAll` and dropped and closed in `afterAll` of the
 * calling describe.
 */
export function useDatastore(dialect: TestDialect, tables: readonly SqlTable[]): () => SqlDatastore {
  let datastore: SqlDatastore | undefined;
  beforeAll(async () => {
    datastore = new SqlDatastore({ settings: dialect.settings(), tables });
    await datastore.setupConnection();
    await datastore.setupTables();
  });
  afterAll(async () => {
    if (datastore === undefined) return;
    try {
      await datastore.dropTables();
    } finally {
      await datastore.close();
    }
  });
  return () => {
    if (datastore === undefined) throw new Error('the datastore was not set up');
    return datastore;
  };
}
