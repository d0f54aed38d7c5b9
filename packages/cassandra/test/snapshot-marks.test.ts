/**
 * Snapshot tables mark each bucket `newer` once a newer bucket of its sequence is listed, so that the
 * newest snapshot is one statement when a strategy remembers its bucket (no bucket index read), and
 * stays right whatever other writers do: buckets opened in any order, at once, or left empty by a failed
 * append; and tables created before the marks are still read and written, through their index.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, SequencedItem } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import type { Client } from 'cassandra-driver';
import {
  CassandraActiveRecordStrategy,
  type CassandraDatastore,
  CqlSnapshot,
  type CqlClient,
} from '../src/index.js';
import { cassandraAvailable, dropAndClose, openDatastore, testKeyspace } from './helpers.js';

// Buckets of 10 versions: a few snapshots span several buckets.
const table = CqlSnapshot.withTableName('marked_snapshots').withBucketSize(10);
const legacy = CqlSnapshot.withTableName('legacy_snapshots').withBucketSize(10);
const snapshot = (id: string, version: number) => new SequencedItem(id, version, 'Snap', `{"v":${version}}`);
const newest = { descending: true, limit: 1 } as const;

/** A client that counts the statements it runs (and can refuse batches). */
function counting(real: Client, refuseBatches = false) {
  const count = { statements: 0 };
  const client: CqlClient = {
    execute: ((...args: Parameters<Client['execute']>) => {
      count.statements += 1;
      return real.execute(...args);
    }) as CqlClient['execute'],
    batch: ((...args: Parameters<Client['batch']>) => {
      count.statements += 1;
      if (refuseBatches) return Promise.reject(new TypeError('refused by the test'));
      return real.batch(...args);
    }) as CqlClient['batch'],
  };
  return { client, count };
}

describeIfAvailable(cassandraAvailable, 'the newer marks of a snapshot table', () => {
  let datastore: CassandraDatastore;
  beforeAll(async () => {
    datastore = await openDatastore(testKeyspace('marks'), [table]);
  }, 60_000);
  afterAll(() => dropAndClose(datastore));

  /** A strategy standing for its own process (it remembers nothing another one learnt). */
  function strategy(refuseBatches = false, on = table) {
    const { client, count } = counting(datastore.client, refuseBatches);
    const session = { client, keyspace: datastore.settings.keyspace, settings: datastore.settings };
    return { strategy: new CassandraActiveRecordStrategy({ table: on, session }), count };
  }
  const newestOf = async (s: CassandraActiveRecordStrategy, id: string) =>
    (await s.getItems(id, newest)).map((i) => i.position);

  it('a first write into a new bucket marks the older buckets a few at a time (at most 16 statements in flight)', async () => {
    const id = randomUUID();
    const { strategy: first } = strategy();
    for (let bucket = 0; bucket < 40; bucket++) await first.append([snapshot(id, bucket * 10)]);
    // A fresh strategy knows no marks: before its first write into bucket 40 it marks all 40 below.
    let inFlight = 0;
    let most = 0;
    const client: CqlClient = {
      execute: (async (...args: Parameters<Client['execute']>) => {
        most = Math.max(most, ++inFlight);
        try {
          return await datastore.client.execute(...args);
        } finally {
          inFlight -= 1;
        }
      }) as CqlClient['execute'],
      batch: ((...args: Parameters<Client['batch']>) =>
        datastore.client.batch(...args)) as CqlClient['batch'],
    };
    const session = { client, keyspace: datastore.settings.keyspace, settings: datastore.settings };
    const fresh = new CassandraActiveRecordStrategy({ table, session });
    await fresh.append([snapshot(id, 400)]);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(16);
    expect(await newestOf(strategy().strategy, id)).toEqual([400]);
  }, 60_000);

  it('the newest snapshot of a bucket the strategy remembers is one statement (it was two: the bucket index too)', async () => {
    const id = randomUUID();
    const { strategy: writer, count } = strategy();
    await writer.append(snapshot(id, 5));
    await writer.append(snapshot(id, 25)); // bucket 2
    await newestOf(writer, id); // the layout check and the first reads are done
    count.statements = 0;
    expect(await newestOf(writer, id)).toEqual([25]);
    expect(count.statements).toBe(1);
    // A reader that knows nothing finds it through the index, then remembers it.
    const { strategy: reader, count: readerCount } = strategy();
    expect(await newestOf(reader, id)).toEqual([25]);
    readerCount.statements = 0;
    expect(await newestOf(reader, id)).toEqual([25]);
    expect(readerCount.statements).toBe(1);
  });

  it('another writer opening a newer bucket, or an older one, after the reader remembered one', async () => {
    const id = randomUUID();
    const { strategy: reader } = strategy();
    await strategy().strategy.append(snapshot(id, 12)); // bucket 1
    expect(await newestOf(reader, id)).toEqual([12]);
    await strategy().strategy.append(snapshot(id, 47)); // bucket 4: marks bucket 1
    expect(await newestOf(reader, id)).toEqual([47]);
    // Bucket 3, below the newest: marked with its row. Its writer remembers only bucket 3 (it wrote there).
    const { strategy: older } = strategy();
    await older.append(snapshot(id, 33));
    expect(await newestOf(older, id)).toEqual([47]);
    expect(await newestOf(reader, id)).toEqual([47]);
    // A reader that met bucket 3 first (the newest snapshot at or below 39) remembers only bucket 3,
    // which carries its mark.
    const { strategy: bounded } = strategy();
    const below40 = await bounded.getItems(id, { lte: 39, descending: true, limit: 1 });
    expect(below40.map((i) => i.position)).toEqual([33]);
    expect(await newestOf(bounded, id)).toEqual([47]);
    await strategy().strategy.append(snapshot(id, 3)); // bucket 0
    expect(await newestOf(reader, id)).toEqual([47]);
    expect((await reader.getItems(id, { descending: true, limit: 3 })).map((i) => i.position)).toEqual([
      47, 33, 12,
    ]);
  });

  it('a taken version in a marked bucket (its mark in the batch) is still a ConcurrencyError naming it, and writes nothing', async () => {
    const id = randomUUID();
    await strategy().strategy.append(snapshot(id, 41)); // bucket 4
    const { strategy: writer } = strategy();
    await writer.append(snapshot(id, 22)); // bucket 2, below bucket 4: its batch carries the mark
    const again = await writer.append([snapshot(id, 22), snapshot(id, 23)]).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConcurrencyError);
    expect((again as ConcurrencyError).position).toBe(22);
    expect((await writer.getItems(id)).map((i) => i.position)).toEqual([22, 41]);
  });

  it('many writers at once, each in a bucket of its own, in any order: every reader finds the newest', async () => {
    for (let round = 0; round < 3; round++) {
      const id = randomUUID();
      const readers = [strategy().strategy, strategy().strategy];
      await strategy().strategy.append(snapshot(id, 1));
      for (const reader of readers) expect(await newestOf(reader, id)).toEqual([1]);
      const versions = [95, 14, 52, 71, 38, 26, 83, 60].map((v) => v + round);
      await Promise.all(versions.map((v) => strategy().strategy.append(snapshot(id, v))));
      const top = Math.max(...versions);
      for (const reader of [...readers, strategy().strategy])
        expect(await newestOf(reader, id)).toEqual([top]);
    }
  });

  it('a failed append leaves a newer bucket listed and empty: the marks send readers to the index, which skips it', async () => {
    const id = randomUUID();
    const { strategy: reader } = strategy();
    await strategy().strategy.append(snapshot(id, 7)); // bucket 0
    expect(await newestOf(reader, id)).toEqual([7]);
    // Lists bucket 5 and marks bucket 0, then its batch is refused: nothing stored in bucket 5.
    await expect(strategy(true).strategy.append(snapshot(id, 55))).rejects.toThrow('refused by the test');
    expect(await newestOf(reader, id)).toEqual([7]);
    expect(await newestOf(strategy().strategy, id)).toEqual([7]);
  });

  it('a snapshot table created before the marks (no `newer` column) is still written and read, through its index', async () => {
    // As the previous version of this package created it.
    const { keyspace } = datastore.settings;
    for (const cql of legacy.createStatements(keyspace))
      await datastore.client.execute(
        cql.replace('\n  newer bigint static,', '').replaceAll(legacy.layout, legacy.legacyLayout!),
      );
    const id = randomUUID();
    const { strategy: writer } = strategy(false, legacy);
    for (const v of [4, 31, 17]) await writer.append(snapshot(id, v));
    expect(await newestOf(writer, id)).toEqual([31]);
    expect(await newestOf(strategy(false, legacy).strategy, id)).toEqual([31]);
    expect((await writer.getItems(id)).map((i) => i.position)).toEqual([4, 17, 31]);
  });
});
