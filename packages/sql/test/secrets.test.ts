/**
 * Issue 10, defect 9: the password is in no error message, no `cause`, and no `util.inspect` or JSON of
 * settings, datastores or strategies (a bad URL's error used to carry it in its cause).
 */
import { inspect } from 'node:util';
import { createPool } from 'mysql2';
import pg from 'pg';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '../src/index.js';

const SECRET = 'hunter2-Secret';

/** Everything a log line could show of a value: its inspection (causes included) and its JSON. */
function shown(value: unknown): string {
  let json = '';
  try {
    json = JSON.stringify(value) ?? '';
  } catch {
    // circular: not loggable as JSON anyway
  }
  const error = value instanceof Error ? `${value.message} ${String(value.stack)}` : '';
  return `${inspect(value, { depth: 20, showHidden: true })} ${json} ${error}`;
}

async function thrown(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('no password in what can be logged', () => {
  it.each([
    ['a port out of range', `postgres://u:${SECRET}@h:99999999/d`],
    ['a malformed host', `postgres://u:${SECRET}@[bad/d`],
    ['an unknown scheme', `oracle://u:${SECRET}@h/d`],
    ['an unknown parameter', `mysql://u:${SECRET}@h/d?secret=${SECRET}x`],
  ])('a bad URL (%s): the error, its cause and their inspection', async (_name, url) => {
    const error = await thrown(() => new SqlSettings(url));
    expect(error).toMatchObject({ name: 'SettingsError' });
    expect(shown(error)).not.toContain(SECRET);
  });

  it('settings, datastores and strategies, inspected or as JSON, with their pools', async () => {
    const settings = new SqlSettings(`postgres://postgres:${SECRET}@127.0.0.1:5432/test`);
    expect(settings.password).toBe(SECRET);
    const datastore = new SqlDatastore({ settings, tables: [SqlIntegerSequencedItem] });
    const strategy = new SqlActiveRecordStrategy({ datastore, table: SqlIntegerSequencedItem });
    const pgPool = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'u', password: SECRET, database: 'd' });
    const mysqlPool = createPool({ host: '127.0.0.1', port: 1, user: 'u', password: SECRET, database: 'd' });
    const own = [
      new SqlDatastore({ client: { dialect: 'postgres', pool: pgPool } }),
      new SqlDatastore({ client: { dialect: 'mysql', pool: mysqlPool } }),
    ];
    try {
      for (const value of [settings, datastore, strategy, ...own]) expect(shown(value)).not.toContain(SECRET);
      expect(inspect(datastore)).toMatch(/postgres:\/\/postgres@127\.0\.0\.1:5432\/test/);
    } finally {
      await pgPool.end();
      await new Promise((resolve) => mysqlPool.end(resolve));
    }
  });

  it('a database that cannot be reached: the error and its cause', async () => {
    for (const url of [
      `postgres://postgres:${SECRET}@127.0.0.1:1/test?connectTimeoutMs=2000`,
      `mysql://root:${SECRET}@127.0.0.1:1/test?connectTimeoutMs=2000`,
    ]) {
      const datastore = new SqlDatastore({ settings: new SqlSettings(url) });
      const error = await thrown(() => datastore.setupConnection());
      expect(error).toMatchObject({ name: 'StoreConnectionError' });
      expect(shown(error)).not.toContain(SECRET);
      await datastore.close();
    }
  });
});
