import { describeIfAvailable } from '@es/testing/conformance';
import { randomUUID } from 'node:crypto';
import { SequencedItem, StoreClosedError } from '@es/core';
import { CassandraActiveRecordStrategy, CassandraDatastore, CqlIntegerSequencedItem } from '../src/index.js';
import { cassandraAvailable, openDatastore, testKeyspace, testSettings } from './helpers.js';

describeIfAvailable(cassandraAvailable, 'closing a Cassandra datastore', () => {
  const keyspace = testKeyspace('lifecycle');

  afterAll(async () => {
    const cleanup = new CassandraDatastore({ settings: testSettings({ keyspace }) });
    await cleanup.setupConnection();
    try {
      await cleanup.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    } finally {
      await cleanup.close();
    }
  });

  it('with writes in flight completes every one of them, then refuses further use', async () => {
    const table = CqlIntegerSequencedItem;
    const datastore = await openDatastore(keyspace, [table]);
    const strategy = new CassandraActiveRecordStrategy({ datastore, table });
    const ids = Array.from({ length: 8 }, () => randomUUID());
    const writes = ids.map((id) =>
      strategy.append([new SequencedItem(id, 0, 't.E', '{}'), new SequencedItem(id, 1, 't.E', '{}')]),
    );
    const closed = datastore.close();
    const outcomes = await Promise.allSettled(writes);
    await closed;
    expect(outcomes.map((o) => o.status)).toEqual(ids.map(() => 'fulfilled'));

    expect(datastore.closed).toBe(true);
    await expect(strategy.getItems(ids[0]!)).rejects.toBeInstanceOf(StoreClosedError);
    await expect(strategy.append([new SequencedItem(randomUUID(), 0, 't.E', '{}')])).rejects.toBeInstanceOf(
      StoreClosedError,
    );
    await expect(datastore.setupConnection()).rejects.toBeInstanceOf(StoreClosedError);
    expect(() => datastore.client).toThrow(StoreClosedError);

    const reader = await openDatastore(keyspace, [table]);
    try {
      const read = new CassandraActiveRecordStrategy({ datastore: reader, table });
      for (const id of ids) expect(await read.getItems(id)).toHaveLength(2);
    } finally {
      await reader.close();
    }
  });

  it('a store with a feed: close() waits for log reads in flight, and refuses them after', async () => {
    const table = CqlIntegerSequencedItem.withFeed().withTableName('lifecycle_feed');
    const datastore = await openDatastore(keyspace, [table]);
    const strategy = new CassandraActiveRecordStrategy({ datastore, table });
    await strategy.append([new SequencedItem(randomUUID(), 0, 't.E', '{}')]);
    const reads = Array.from({ length: 8 }, () => [
      strategy.selectNotifications(1, 10),
      strategy.maxNotificationId(),
    ]).flat();
    const closed = datastore.close();
    const outcomes = await Promise.allSettled(reads);
    await closed;
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : o.status))).toEqual(
      reads.map(() => 'fulfilled'),
    );
    await expect(strategy.selectNotifications(1, 10)).rejects.toBeInstanceOf(StoreClosedError);
    await expect(strategy.maxNotificationId()).rejects.toBeInstanceOf(StoreClosedError);
  });
});
