import { format, inspect } from 'node:util';
import { SettingsError } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '../src/index.js';
import { cassandraAvailable, testSettings } from './helpers.js';

// Distinctive, so that finding it anywhere in a printout is a leak and not a coincidence.
const PASSWORD = 'pw-7f3a-S3cr3t';

/** Every way an application prints an object: console.log (util.format), util.inspect in depth, JSON. */
function printouts(value: unknown): string[] {
  return [
    format('%s', value),
    format('%o', value),
    format(value),
    inspect(value, { depth: Infinity, showHidden: true }),
    JSON.stringify(value) ?? '',
    String(value),
  ];
}

function expectNoPassword(value: unknown): void {
  for (const printout of printouts(value)) expect(printout).not.toContain(PASSWORD);
}

describe('the password is never printed', () => {
  it('CassandraSettings from options, a URL or the environment: console.log, util.inspect, JSON.stringify', () => {
    const made = [
      new CassandraSettings({ username: 'app', password: PASSWORD }, {}),
      new CassandraSettings({ url: `cassandra://app:${PASSWORD}@127.0.0.1:9042/ks` }, {}),
      new CassandraSettings({}, { CASSANDRA_USERNAME: 'app', CASSANDRA_PASSWORD: PASSWORD }),
    ];
    for (const settings of made) {
      expect(settings.password).toBe(PASSWORD); // still there for the driver
      expectNoPassword(settings);
      expect(inspect(settings)).toContain("password: '***'");
      expect(JSON.parse(JSON.stringify(settings))).toMatchObject({ username: 'app', password: '***' });
    }
  });

  it('a datastore and a strategy, before connecting', () => {
    const settings = new CassandraSettings({ username: 'app', password: PASSWORD }, {});
    const datastore = new CassandraDatastore({ settings, tables: [CqlIntegerSequencedItem] });
    expectNoPassword(datastore);
    expectNoPassword(new CassandraActiveRecordStrategy({ datastore, table: CqlIntegerSequencedItem }));
  });

  it('settings errors name the field, never the password', () => {
    const bad = [
      () => new CassandraSettings({ url: `cassandra://app:${PASSWORD}@127.0.0.1:99999/ks` }, {}),
      () => new CassandraSettings({ url: `cassandra://app:${PASSWORD}@127.0.0.1/ks?nope=1` }, {}),
      () => new CassandraSettings({ url: `cassandra://app:${PASSWORD}@127.0.0.1/bad-keyspace` }, {}),
      () => new CassandraSettings({ password: PASSWORD }, {}),
    ];
    for (const make of bad) {
      let caught: unknown;
      try {
        make();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SettingsError);
      expectNoPassword(caught);
    }
  });
});

describeIfAvailable(cassandraAvailable, 'the password is never printed, connected', () => {
  // The test node accepts any credentials (AllowAllAuthenticator); what matters is that the driver client,
  // whose options hold them, is reachable from the objects an application logs.
  it('a connected datastore, and a strategy on an explicit session', async () => {
    const datastore = new CassandraDatastore({
      settings: testSettings({ username: 'app', password: PASSWORD }),
    });
    await datastore.setupConnection();
    try {
      expect(inspect(datastore.client, { depth: 4 })).toContain(PASSWORD); // the leak this guards against
      expectNoPassword(datastore);
      const strategy = new CassandraActiveRecordStrategy({
        session: datastore.session,
        table: CqlIntegerSequencedItem,
      });
      expectNoPassword(strategy);
    } finally {
      await datastore.close();
    }
  });
});
