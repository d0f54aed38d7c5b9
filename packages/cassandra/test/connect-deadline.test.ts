import { StoreConnectionError } from '@es/core';
import { Client } from 'cassandra-driver';
import { CassandraDatastore, CassandraSettings } from '../src/index.js';

describe('a connect that runs past the deadline', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is refused in time, and the client is shut down again once the driver has finished connecting', async () => {
    let finishConnecting: () => void = () => undefined;
    jest
      .spyOn(Client.prototype, 'connect')
      .mockImplementation(() => new Promise<void>((resolve) => (finishConnecting = resolve)));
    const shutdowns: string[] = [];
    let connected = false;
    jest.spyOn(Client.prototype, 'shutdown').mockImplementation(async () => {
      // As the driver (4.10): a shutdown while connect() is under way does nothing.
      shutdowns.push(connected ? 'closed' : 'ignored (still connecting)');
    });
    const datastore = new CassandraDatastore({
      settings: new CassandraSettings({ hosts: ['127.0.0.1'], connectTimeoutMs: 100 }),
    });
    await expect(datastore.setupConnection()).rejects.toBeInstanceOf(StoreConnectionError);
    expect(shutdowns).toEqual(['ignored (still connecting)']);
    // The driver's connect goes on and opens its connections: they must be closed.
    connected = true;
    finishConnecting();
    await new Promise((resolve) => setImmediate(resolve));
    expect(shutdowns).toEqual(['ignored (still connecting)', 'closed']);
  });
});
