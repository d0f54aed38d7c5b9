import { randomUUID } from 'node:crypto';
import {
  ConcurrencyError,
  MissingTableError,
  OutcomeUnknownError,
  SequencedItem,
  StoreConnectionError,
} from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import { errors } from 'cassandra-driver';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  type CqlClient,
  CqlIntegerSequencedItem,
  CqlTimestampSequencedItem,
} from '../src/index.js';
import { cassandraAvailable, dropAndClose, testKeyspace, testSettings } from './helpers.js';

const settings = new CassandraSettings({ keyspace: 'fake' }, {});

/**
 * A client that answers the strategy's layout check and fails every other request with `failure()`: what
 * the driver does in the first moments after a node restart, when its pool for that node is still empty.
 */
function failingClient(failure: () => Error): CqlClient {
  const layout = CqlIntegerSequencedItem.layout;
  const execute = (query: string) => {
    if (query.includes('system_schema.tables'))
      return Promise.resolve({ first: () => ({ get: () => layout }) });
    return Promise.reject(failure());
  };
  return {
    execute: execute as unknown as CqlClient['execute'],
    batch: (() => Promise.reject(failure())) as unknown as CqlClient['batch'],
  };
}

const strategyOn = (client: CqlClient) =>
  new CassandraActiveRecordStrategy({
    session: { client, keyspace: 'fake', settings },
    table: CqlIntegerSequencedItem,
  });

describe('driver failures after a node restart are typed', () => {
  const noConnection = () => new Error('No connection available');
  const cases: [string, () => Error][] = [
    // The prepare path throws the pool's plain Error; the request path wraps it.
    ['the pool has no connection (plain Error)', noConnection],
    [
      'NoHostAvailableError whose hosts had no connection',
      () => new errors.NoHostAvailableError({ '127.0.0.3:9042': noConnection() }),
    ],
  ];

  it.each(cases)('%s: reads and appends give StoreConnectionError', async (_, failure) => {
    const strategy = strategyOn(failingClient(failure));
    const read = await strategy.getItems(randomUUID()).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(StoreConnectionError);
    // Nothing was sent, so the append's outcome is known: not written, safe to retry.
    const append = await strategy
      .append(new SequencedItem(randomUUID(), 0, 't', '{}'))
      .catch((e: unknown) => e);
    expect(append).toBeInstanceOf(StoreConnectionError);
    expect(append).not.toBeInstanceOf(OutcomeUnknownError);
  });

  it('a socket closed under a statement the driver could not resend gives StoreConnectionError', async () => {
    // The driver's own class (abstract in its typings), as its connection makes it.
    const DriverError = errors.DriverError as unknown as new (message: string) => Error;
    const closed = () => Object.assign(new DriverError('Socket was closed'), { isSocketError: true });
    const read = await strategyOn(failingClient(closed))
      .getItems(randomUUID())
      .catch((e: unknown) => e);
    expect(read).toBeInstanceOf(StoreConnectionError);
    expect((read as Error).message).toContain('Socket was closed');
  });
});

describeIfAvailable(cassandraAvailable, 'a keyspace or table dropped behind a running strategy', () => {
  const integer = CqlIntegerSequencedItem.withTableName('dropped_items');
  const timestamp = CqlTimestampSequencedItem.withTableName('dropped_stamps');

  it('the keyspace: reads and appends give MissingTableError (call setupTables()); after it, they work', async () => {
    const keyspace = testKeyspace('dropped');
    const datastore = new CassandraDatastore({
      settings: testSettings({ keyspace }),
      tables: [integer, timestamp],
    });
    await datastore.setupConnection();
    await datastore.setupTables();
    try {
      const events = new CassandraActiveRecordStrategy({ datastore, table: integer });
      const stamps = new CassandraActiveRecordStrategy({ datastore, table: timestamp });
      const id = randomUUID();
      await events.append(new SequencedItem(id, 0, 't', '{}'));
      await stamps.append(new SequencedItem(id, 1000.5, 't', '{}'));

      await datastore.client.execute(`DROP KEYSPACE ${keyspace}`);
      const failures = await Promise.all([
        events.getItems(id).catch((e: unknown) => e),
        events.append(new SequencedItem(id, 1, 't', '{}')).catch((e: unknown) => e),
        events.append(new SequencedItem(randomUUID(), 0, 't', '{}')).catch((e: unknown) => e),
        stamps.getItems(id).catch((e: unknown) => e),
        stamps.append(new SequencedItem(id, 2000.5, 't', '{}')).catch((e: unknown) => e),
      ]);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(MissingTableError);
        expect((failure as Error).message).toMatch(
          new RegExp(`(keyspace ${keyspace}|table ${keyspace}\\.\\w+) does not exist.*setupTables\\(\\)`),
        );
      }

      await datastore.setupTables();
      await events.append(new SequencedItem(id, 0, 't', '{"again":1}'));
      await expect(events.append(new SequencedItem(id, 0, 't', '{}'))).rejects.toThrow(ConcurrencyError);
      expect((await events.getItems(id)).map((item) => item.data)).toEqual(['{"again":1}']);
    } finally {
      await dropAndClose(datastore);
    }
  }, 60_000);

  it('a table: the same MissingTableError', async () => {
    const datastore = new CassandraDatastore({
      settings: testSettings({ keyspace: testKeyspace('dropped') }),
      tables: [integer],
    });
    await datastore.setupConnection();
    await datastore.setupTables();
    try {
      const events = new CassandraActiveRecordStrategy({ datastore, table: integer });
      const id = randomUUID();
      await events.append(new SequencedItem(id, 0, 't', '{}'));
      await datastore.dropTables();
      for (const failure of [
        await events.getItems(id).catch((e: unknown) => e),
        await events.append(new SequencedItem(id, 1, 't', '{}')).catch((e: unknown) => e),
      ]) {
        expect(failure).toBeInstanceOf(MissingTableError);
        expect((failure as Error).message).toMatch(/does not exist.*setupTables\(\)/);
      }
    } finally {
      await dropAndClose(datastore);
    }
  }, 60_000);
});
