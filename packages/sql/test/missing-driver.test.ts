import { SettingsError } from '@es/core';
import { SqlDatastore, SqlSettings } from '../src/index.js';

// As if the drivers were not installed: each is an optional peer dependency, loaded only when chosen.
for (const name of ['better-sqlite3', 'pg', 'mysql2']) {
  jest.mock(name, () => {
    throw Object.assign(new Error(`Cannot find module '${name}' from 'src/dialects.ts'`), {
      code: 'MODULE_NOT_FOUND',
    });
  });
}

describe('a dialect whose driver is not installed', () => {
  it.each([
    ['sqlite::memory:', 'better-sqlite3'],
    ['postgres://postgres@127.0.0.1:5432/test', 'pg'],
    ['mysql://root@127.0.0.1:3306/test', 'mysql2'],
  ])('%s: a SettingsError that names the package to install (%s)', async (url, driver) => {
    const datastore = new SqlDatastore({ settings: new SqlSettings(url) });
    const error = await datastore.setupConnection().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).message).toContain(`npm install ${driver}`);
    await datastore.close();
  });

  it('importing @es/sql and constructing a datastore need no driver (this file imported it with none)', () => {
    const datastore = new SqlDatastore({
      settings: new SqlSettings('postgres://postgres@127.0.0.1:5432/test'),
    });
    expect(datastore.settings.dialect).toBe('postgres');
  });
});
