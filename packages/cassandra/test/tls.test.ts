import { describeIfAvailable } from '@es/testing/conformance';
import { StoreConnectionError } from '@es/core';
import { CassandraDatastore, CassandraSettings } from '../src/index.js';
import { clientOptions } from '../src/datastore.js';
import { cassandraAvailable, testSettings } from './helpers.js';

describe('driver options for TLS and more (clientOptions)', () => {
  const settings = new CassandraSettings({ url: 'cassandra://db1.example.com:9142,db2.example.com/shop' });

  it('passes sslOptions (and any other driver option) to the Client', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n';
    const options = clientOptions(settings, {
      sslOptions: { ca: [ca], rejectUnauthorized: true },
      prepareOnAllHosts: false,
    });
    expect(options.sslOptions).toEqual({ ca: [ca], rejectUnauthorized: true });
    expect(options.prepareOnAllHosts).toBe(false);
  });

  it('keeps what the settings say: hosts, port, timeouts and consistency', () => {
    const options = clientOptions(settings, { contactPoints: ['elsewhere'], protocolOptions: { port: 1 } });
    expect(options.contactPoints).toEqual(['db1.example.com', 'db2.example.com']);
    expect(options.protocolOptions).toEqual({ port: 9142 });
    expect(options.sslOptions).toBeUndefined();
  });
});

describeIfAvailable(cassandraAvailable, 'TLS reaches the driver', () => {
  it('a TLS client of a node without TLS is refused with StoreConnectionError', async () => {
    await using datastore = new CassandraDatastore({
      settings: testSettings({ connectTimeoutMs: 3000 }),
      clientOptions: { sslOptions: { rejectUnauthorized: false } },
    });
    await expect(datastore.setupConnection()).rejects.toBeInstanceOf(StoreConnectionError);
  }, 20_000);
});
