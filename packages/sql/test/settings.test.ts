import { SequencedItem, SettingsError, StoreConnectionError, ValidationError } from '@es/core';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '../src/index.js';

describe('SqlSettings', () => {
  const saved = process.env.ES_SQL_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.ES_SQL_URL;
    else process.env.ES_SQL_URL = saved;
  });

  it.each([
    ['sqlite:./es.db', { dialect: 'sqlite', filename: './es.db' }],
    ['sqlite::memory:', { dialect: 'sqlite', filename: ':memory:' }],
    ['sqlite:/var/lib/es/es.db', { dialect: 'sqlite', filename: '/var/lib/es/es.db' }],
    ['sqlite:///var/lib/es/es.db', { dialect: 'sqlite', filename: '/var/lib/es/es.db' }],
    [
      'postgres://postgres@127.0.0.1:5432/test',
      { dialect: 'postgres', host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' },
    ],
    [
      'postgresql://app:s%40cret@db.example.com/events',
      { dialect: 'postgres', host: 'db.example.com', port: 5432, user: 'app', database: 'events' },
    ],
    [
      'mysql://root@127.0.0.1:3306/test',
      { dialect: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', database: 'test' },
    ],
    ['mariadb://me@[::1]:3307/db', { dialect: 'mysql', host: '::1', port: 3307, user: 'me', database: 'db' }],
  ])('reads the URL %s', (url, expected) => {
    expect(new SqlSettings(url)).toMatchObject(expected);
    expect(new SqlSettings({ url })).toMatchObject(expected);
  });

  it('decodes the password, and never shows it', () => {
    const settings = new SqlSettings('postgresql://app:s%40cret@db.example.com/events');
    expect(settings.password).toBe('s@cret');
    expect(String(settings)).toBe('postgres://app@db.example.com:5432/events');
    expect(JSON.stringify({ settings })).not.toContain('cret');
    expect(JSON.stringify(settings)).toBe('"postgres://app@db.example.com:5432/events"');
  });

  it('defaults to ES_SQL_URL, else SQLite in memory', () => {
    delete process.env.ES_SQL_URL;
    expect(new SqlSettings()).toMatchObject({
      dialect: 'sqlite',
      filename: ':memory:',
      inMemory: true,
      poolSize: 1,
    });
    process.env.ES_SQL_URL = 'mysql://root@127.0.0.1:3306/test';
    expect(new SqlSettings()).toMatchObject({ dialect: 'mysql', database: 'test', poolSize: 10 });
    // An explicit URL or dialect wins over the environment.
    expect(new SqlSettings('sqlite:x.db').dialect).toBe('sqlite');
    expect(new SqlSettings({ dialect: 'postgres', database: 'd' })).toMatchObject({
      dialect: 'postgres',
      host: '127.0.0.1',
      user: 'postgres',
    });
  });

  it('takes options that override the URL, with defaults for the rest', () => {
    const settings = new SqlSettings({
      url: 'postgres://a@h:1/d',
      port: 6543,
      poolSize: 3,
      lockTimeoutMs: 500,
    });
    expect(settings).toMatchObject({
      host: 'h',
      port: 6543,
      user: 'a',
      poolSize: 3,
      lockTimeoutMs: 500,
      connectTimeoutMs: 10_000,
      idleTimeoutMs: 30_000,
    });
    expect(new SqlSettings({ dialect: 'sqlite', filename: ':memory:' }).inMemory).toBe(true);
  });

  it('a request timeout (requestTimeoutMs) from options or the URL; 30 s by default', () => {
    expect(new SqlSettings('postgres://u@h/d').requestTimeoutMs).toBe(30_000);
    expect(new SqlSettings('mysql://u@h/d?requestTimeoutMs=1500&poolSize=4')).toMatchObject({
      requestTimeoutMs: 1500,
      poolSize: 4,
    });
    expect(
      new SqlSettings({ url: 'postgres://u@h/d?requestTimeoutMs=1500', requestTimeoutMs: 99 })
        .requestTimeoutMs,
    ).toBe(99);
    for (const bad of ['abc', '0', '-5', '1.5', '']) {
      expect(() => new SqlSettings(`postgres://u@h/d?requestTimeoutMs=${bad}`)).toThrow(
        expect.objectContaining({ name: 'SettingsError', field: 'requestTimeoutMs' }),
      );
    }
  });

  it.each([
    ['an unknown scheme', 'oracle://x/y', 'url'],
    ['no scheme', './es.db', 'url'],
    ['a query parameter other than TLS', 'postgres://u@h/d?schema=x', 'url'],
    ['an unknown sslmode', 'postgres://u@h/d?sslmode=sometimes', 'ssl'],
    ['a fragment', 'postgres://u@h/d#x', 'url'],
    ['an empty SQLite filename', 'sqlite:', 'filename'],
    ['no database', 'postgres://u@h:5432', 'database'],
    ['port 0', 'postgres://u@h:0/d', 'port'],
  ])('rejects %s when constructed', (_name, url, field) => {
    const construct = () => new SqlSettings(url);
    expect(construct).toThrow(SettingsError);
    try {
      construct();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as SettingsError).field).toBe(field);
    }
  });

  it.each([
    [{ url: 'postgres://u@h/d', poolSize: 0 }, 'poolSize'],
    [{ url: 'postgres://u@h/d', poolSize: 1.5 }, 'poolSize'],
    [{ url: 'sqlite::memory:', poolSize: 4 }, 'poolSize'],
    [{ url: 'mysql://u@h/d', lockTimeoutMs: -1 }, 'lockTimeoutMs'],
    [{ url: 'mysql://u@h/d', connectTimeoutMs: Number.NaN }, 'connectTimeoutMs'],
    [{ url: 'mysql://u@h/d', port: 70000 }, 'port'],
    [{ url: 'mysql://u@h/d', host: '' }, 'host'],
    [{ dialect: 'oracle' as 'mysql', database: 'd' }, 'dialect'],
  ])('rejects bad options %j when constructed', (options, field) => {
    expect(() => new SqlSettings(options)).toThrow(expect.objectContaining({ name: 'SettingsError', field }));
  });

  it('names the URL in a bad-URL error without its password', () => {
    expect(() => new SqlSettings('oracle://scott:tiger@h/d')).toThrow(/oracle:\/\/scott:\*\*\*@h\/d/);
    expect(() => new SqlSettings('oracle://scott:tiger@h/d')).not.toThrow(/tiger/);
  });
});

describe('SqlDatastore.open', () => {
  it('connects and creates the tables, ready to append', async () => {
    const table = SqlIntegerSequencedItem.withTableName(`open_${Math.random().toString(36).slice(2, 10)}`);
    const datastore = await SqlDatastore.open({
      settings: new SqlSettings('sqlite::memory:'),
      tables: [table],
    });
    try {
      const strategy = new SqlActiveRecordStrategy({ datastore, table });
      const id = '6f1c1a52-7e4d-4e55-9a44-0b6f8c2b7f10';
      await strategy.append(new SequencedItem(id, 0, 't', '{}'));
      expect((await strategy.getItems(id)).map((i) => i.position)).toEqual([0]);
    } finally {
      await datastore.close();
    }
  });

  it('rejects, and leaves nothing open, when the database cannot be reached', async () => {
    await expect(
      SqlDatastore.open({
        settings: new SqlSettings({ url: 'postgres://postgres@127.0.0.1:1/test', connectTimeoutMs: 500 }),
      }),
    ).rejects.toBeInstanceOf(StoreConnectionError);
  });
});
