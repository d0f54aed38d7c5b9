/**
 * A long-running strategy remembers facts about its sequences' buckets (known.ts) that hold as long as the
 * server never loses data. When it does (a table truncated or dropped and recreated, a restore from an
 * older backup), the strategy must neither stay stuck nor write or read by what it remembers: every
 * decision that matters is taken on what the server says, and what it remembers is dropped when the server
 * contradicts it.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, SequencedItem } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  type CassandraDatastore,
  CqlIntegerSequencedItem,
} from '../src/index.js';
import { cassandraAvailable, dropAndClose, openDatastore, testKeyspace } from './helpers.js';

// Buckets of 2 versions: a few appends give the strategy frozen buckets and an index to remember.
const table = CqlIntegerSequencedItem.withTableName('stale_items').withBucketSize(2);
const item = (id: string, position: number, data = `{"p":${position}}`) =>
  new SequencedItem(id, position, 'Stale', data);

describeIfAvailable(cassandraAvailable, 'a strategy after the server lost data behind its back', () => {
  let datastore: CassandraDatastore;
  beforeAll(async () => {
    datastore = await openDatastore(testKeyspace('stale'), [table]);
  }, 60_000);
  afterAll(() => dropAndClose(datastore));

  const lose: [string, () => Promise<void>][] = [
    [
      'tables truncated',
      async () => {
        for (const name of [table.tableName, table.indexTableName])
          await datastore.client.execute(`TRUNCATE ${datastore.settings.keyspace}.${name}`);
      },
    ],
    [
      'tables dropped and recreated',
      async () => {
        await datastore.dropTables();
        await datastore.setupTables();
      },
    ],
  ];

  /** A strategy that has appended 0..count-1 of `id` one by one and read them: it knows frozen buckets. */
  async function longRunning(id: string, count: number) {
    const strategy = new CassandraActiveRecordStrategy({ datastore, table });
    for (let position = 0; position < count; position++)
      await strategy.append(item(id, position, '{"old":1}'));
    expect(await strategy.getItems(id)).toHaveLength(count);
    return strategy;
  }

  it.each(lose)(
    '%s: appending again through the same strategy works; taken positions and gaps are still refused',
    async (_, loseData) => {
      const id = randomUUID();
      const strategy = await longRunning(id, 6);
      await loseData();

      const again = [0, 1, 2, 3, 4].map((position) => item(id, position));
      for (const next of again) await strategy.append(next); // 2 and 4 open buckets again
      await expect(strategy.append(item(id, 2, '{"late":1}'))).rejects.toThrow(ConcurrencyError);
      await expect(strategy.append(item(id, 6))).rejects.toThrow(ConcurrencyError);
      expect(await strategy.getItems(id)).toEqual(again);
      // What it wrote is whole for any reader: a new strategy finds it through the bucket index too.
      const fresh = new CassandraActiveRecordStrategy({ datastore, table });
      expect(await fresh.getItems(id)).toEqual(again);
      expect(await fresh.getItems(id, { descending: true, lt: 4 })).toEqual(again.slice(0, 4).reverse());
    },
    60_000,
  );

  it.each(lose)(
    '%s: what it remembers does not let it append past a gap another writer left',
    async (_, loseData) => {
      const id = randomUUID();
      const strategy = await longRunning(id, 2); // remembers: bucket 0 holds 0..1 for good
      await loseData();
      await new CassandraActiveRecordStrategy({ datastore, table }).append(item(id, 0));
      // Position 1 does not exist: opening bucket 1 at position 2 would leave a gap.
      await expect(strategy.append(item(id, 2))).rejects.toThrow(ConcurrencyError);
      expect(await strategy.getItems(id)).toEqual([item(id, 0)]);
    },
    60_000,
  );

  it.each(lose)(
    '%s: it reads what another writer wrote since, laid out differently',
    async (_, loseData) => {
      const id = randomUUID();
      const strategy = new CassandraActiveRecordStrategy({ datastore, table });
      // One batch 1..4 lies whole in bucket 0: the strategy learns that bucket 0 holds 0..4 for good.
      await strategy.append(item(id, 0, '{"old":1}'));
      await strategy.append([1, 2, 3, 4].map((position) => item(id, position, '{"old":1}')));
      expect(await strategy.getItems(id)).toHaveLength(5);
      await loseData();
      // Now one item per append: bucket 0 holds 0..1, bucket 1 holds 2..3, bucket 2 holds 4.
      const other = new CassandraActiveRecordStrategy({ datastore, table });
      const again = [0, 1, 2, 3, 4].map((position) => item(id, position));
      for (const next of again) await other.append(next);
      expect(await strategy.getItems(id)).toEqual(again);
      expect(await strategy.getItems(id, { gte: 1, limit: 3 })).toEqual(again.slice(1, 4));
    },
    60_000,
  );
});
