import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverUrl } from '@es/servers';
import { requireBackend } from '@es/servers/jest';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  type SqlDialectName,
  SqlDatastore,
  SqlSettings,
  type SqlSettingsOptions,
  type SqlTable,
} from '../src/index.js';

/**
 * The databases every test file runs against, in one loop: SQLite in process (a file in a temp dir),
 * PostgreSQL and MariaDB/MySQL servers, found through the project's table of backends (tools/servers:
 * ES_POSTGRES_URL, ES_MYSQL_URL). `ES_SQL_DIALECTS=sqlite,postgres` narrows the loop.
 */
export interface TestDialect {
  readonly name: SqlDialectName;
  readonly url: string;
  /** Settings for this database, with overrides. */
  settings(overrides?: SqlSettingsOptions): SqlSettings;
}

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

/** Asked once per server and test file (a file may define several loops), so its banner shows once. */
const serverAvailable = new Map<'postgres' | 'mysql', boolean>();

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
 * fails the file under CI=true and is skipped loudly otherwise (see @es/servers/jest's requireBackend).
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
      url = serverUrl(name);
      available = serverAvailable.get(name) ?? requireBackend(name);
      serverAvailable.set(name, available);
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
