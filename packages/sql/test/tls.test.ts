import { SettingsError, StoreConnectionError } from '@es/core';
import { sql } from 'kysely';
import { SqlDatastore, SqlSettings } from '../src/index.js';
import { driverTlsOptions } from '../src/tls.js';
import { describeEachDialect } from './dialects.js';

/** What reaches the driver's `ssl` option (pg and mysql2 both hand it to tls.connect), per setting. */
function driverSsl(options: ConstructorParameters<typeof SqlSettings>[0]): unknown {
  const ssl = driverTlsOptions(new SqlSettings(options).tls);
  if (typeof ssl === 'object' && typeof ssl.checkServerIdentity === 'function') {
    // verify-ca: a host-name check that accepts any name (the chain is still checked).
    return {
      ...ssl,
      checkServerIdentity: (ssl.checkServerIdentity as () => unknown)() ?? 'accepts any host',
    };
  }
  return ssl;
}

describe('TLS settings for PostgreSQL and MySQL', () => {
  it.each([
    ['postgres://u@db.example.com/d', false],
    ['postgres://u@db.example.com/d?sslmode=disable', false],
    ['postgres://u@db.example.com/d?sslmode=require', { rejectUnauthorized: false }],
    [
      'postgresql://u@db.example.com/d?sslmode=verify-ca',
      { rejectUnauthorized: true, checkServerIdentity: 'accepts any host' },
    ],
    ['postgres://u@db.example.com/d?sslmode=verify-full', { rejectUnauthorized: true }],
    ['mysql://u@db.example.com/d?ssl=true', { rejectUnauthorized: true }],
    ['mysql://u@db.example.com/d?ssl=false', false],
    ['mariadb://u@db.example.com/d?sslmode=require', { rejectUnauthorized: false }],
  ])('the URL %s gives the driver ssl: %j', (url, expected) => {
    expect(driverSsl(url)).toEqual(expected);
  });

  it('takes an ssl option with the CA certificate of a managed database, which wins over the URL', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n';
    expect(driverSsl({ url: 'postgres://u@h/d?sslmode=require', ssl: { mode: 'verify-full', ca } })).toEqual({
      ca,
      rejectUnauthorized: true,
    });
    expect(driverSsl({ url: 'mysql://u@h/d', ssl: { ca: [ca, ca], servername: 'db.internal' } })).toEqual({
      ca: [ca, ca],
      servername: 'db.internal',
      rejectUnauthorized: true,
    });
    expect(driverSsl({ url: 'mysql://u@h/d', ssl: true })).toEqual({ rejectUnauthorized: true });
    expect(driverSsl({ url: 'postgres://u@h/d?sslmode=require', ssl: false })).toBe(false);
    expect(new SqlSettings({ url: 'postgres://u@h/d', ssl: 'verify-ca' }).tls.mode).toBe('verify-ca');
  });

  it.each([
    ['an unknown mode in the URL', { url: 'postgres://u@h/d?sslmode=sometimes' }, 'ssl'],
    ['an unknown mode as an option', { url: 'postgres://u@h/d', ssl: 'strict' as never }, 'ssl'],
    ['another query parameter', { url: 'postgres://u@h/d?sslmode=require&schema=x' }, 'url'],
    ['TLS on SQLite', { url: 'sqlite::memory:', ssl: true }, 'ssl'],
    ['a number', { url: 'mysql://u@h/d', ssl: 1 as never }, 'ssl'],
  ])('refuses %s with a SettingsError', (_name, options, field) => {
    expect(() => new SqlSettings(options)).toThrow(expect.objectContaining({ name: 'SettingsError', field }));
    expect(() => new SqlSettings(options)).toThrow(SettingsError);
  });
});

describeEachDialect(
  'TLS reaches the driver',
  (dialect) => {
    it('sslmode=require: the connection is encrypted, or refused because the server has no TLS', async () => {
      const url = `${dialect.url}${dialect.url.includes('?') ? '&' : '?'}sslmode=require`;
      await using datastore = new SqlDatastore({ settings: new SqlSettings(url) });
      const outcome = await datastore.setupConnection().then(
        async () => {
          const query =
            dialect.name === 'postgres'
              ? sql<{ on: boolean }>`select ssl as on from pg_stat_ssl where pid = pg_backend_pid()`
              : sql<{
                  on: string;
                }>`select variable_value <> '' as on from performance_schema.session_status where variable_name = 'Ssl_cipher'`;
          const { rows } = await query.execute(datastore.db);
          return rows[0]?.on ? 'encrypted' : 'not encrypted';
        },
        (error: unknown) => error,
      );
      if (outcome === 'encrypted') return;
      // The test servers (docs/servers.md) run without TLS: the driver asked for it and was refused.
      expect(outcome).toBeInstanceOf(StoreConnectionError);
      expect((outcome as Error).message).toMatch(/does not support (SSL|secure) connection/i);
    });

    it('sslmode=disable (the default) connects to the test server in the clear', async () => {
      await using datastore = new SqlDatastore({ settings: dialect.settings({ ssl: 'disable' }) });
      await expect(datastore.setupConnection()).resolves.toBeUndefined();
    });
  },
  { only: ['postgres', 'mysql'] },
);
