/**
 * A load from a snapshot on Cassandra: no statement reads two tables, so the events after the snapshot
 * the previous load found are read at the same time as the snapshot, and kept only when the snapshot
 * is still there (SnapshotTailRecorder, see CassandraActiveRecordStrategy.selectSnapshotTail).
 */
import { randomUUID } from 'node:crypto';
import { SequencedItem, readsSnapshotsWith } from '@es/core';
import { defineSnapshotTailSuite, describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  type CassandraDatastore,
  CqlIntegerSequencedItem,
  CqlSnapshot,
  CqlTimestampSequencedItem,
} from '../src/index.js';
import { cassandraAvailable, dropAndClose, openDatastore, testKeyspace } from './helpers.js';

// Buckets of 10 versions: snapshots and tails span several buckets.
const eventsTable = CqlIntegerSequencedItem.withTableName('tail_events').withBucketSize(10);
const snapshotsTable = CqlSnapshot.withTableName('tail_snapshots').withBucketSize(10);
const timestampTable = CqlTimestampSequencedItem.withTableName('tail_timestamps');

describeIfAvailable(cassandraAvailable, 'the newest snapshot and the events after it, read at once', () => {
  let datastore: CassandraDatastore;
  beforeAll(async () => {
    datastore = await openDatastore(testKeyspace('tail'), [eventsTable, snapshotsTable, timestampTable]);
  }, 60_000);
  afterAll(() => dropAndClose(datastore));

  /** The two strategies, with every read of each logged as it starts and as it ends. */
  function strategies() {
    const log: string[] = [];
    class Logged extends CassandraActiveRecordStrategy {
      protected override select(...args: Parameters<CassandraActiveRecordStrategy['select']>) {
        const name = this.table.kind === 'snapshot' ? 'snapshot' : 'events';
        log.push(`${name} from ${args[1].descending ? 'top' : args[1].lower}`);
        return super.select(...args).finally(() => log.push(`${name} read`));
      }
    }
    const events = new Logged({ datastore, table: eventsTable });
    const snapshots = new Logged({ datastore, table: snapshotsTable });
    return { events, snapshots, log };
  }

  async function stream(length: number, snapshotsAt: readonly number[]): Promise<string> {
    const { events, snapshots } = strategies();
    const id = randomUUID();
    await events.append(Array.from({ length }, (_, p) => new SequencedItem(id, p, 't.E', `{"p":${p}}`)));
    for (const at of snapshotsAt) await snapshots.append(new SequencedItem(id, at, 'Snap', `{"at":${at}}`));
    return id;
  }

  // The contract (@es/testing), whose bounds change the snapshot found from call to call: each guess
  // (the previous call's snapshot) is right or wrong in turn.
  defineSnapshotTailSuite({
    name: 'cassandra',
    createStores: async () => {
      const { events, snapshots } = strategies();
      return { events, snapshots };
    },
  });

  it('reads the events at once when it guessed the snapshot, and again after it when not', async () => {
    const id = await stream(25, [12]);
    const { events, snapshots, log } = strategies();
    // Nothing to guess from: the snapshot, then the events after it.
    expect((await events.getSnapshotTail(snapshots, id, { limit: 100 })).events).toHaveLength(13);
    expect(log.splice(0)).toEqual(['snapshot from top', 'snapshot read', 'events from 12', 'events read']);
    // The snapshot at 12 again: the events were read from it at the same time.
    expect((await events.getSnapshotTail(snapshots, id, { limit: 100 })).events).toHaveLength(13);
    expect(log.splice(0).slice(0, 2)).toEqual(['events from 12', 'snapshot from top']);
    // A newer snapshot: the guess was wrong, and the events after it are read after it.
    await snapshots.append(new SequencedItem(id, 21, 'Snap', '{}'));
    const read = await events.getSnapshotTail(snapshots, id, { limit: 100 });
    expect([read.snapshot?.position, read.events.map((e) => e.position)]).toEqual([21, [21, 22, 23, 24]]);
    const wrong = log.splice(0);
    expect(wrong.slice(0, 2)).toEqual(['events from 12', 'snapshot from top']);
    expect(wrong.indexOf('events from 21')).toBeGreaterThan(wrong.indexOf('snapshot read'));
    // An append between the two loads is in the next one's events, guessed right.
    await events.append(new SequencedItem(id, 25, 't.E', '{}'));
    const next = await events.getSnapshotTail(snapshots, id, { limit: 100 });
    expect(next.events.map((e) => e.position)).toEqual([21, 22, 23, 24, 25]);
    expect(log.splice(0).slice(0, 2)).toEqual(['events from 21', 'snapshot from top']);
  }, 60_000);

  it('only under an integer events table, with integer snapshot positions', () => {
    const { events, snapshots } = strategies();
    const timestamps = new CassandraActiveRecordStrategy({ datastore, table: timestampTable });
    expect(readsSnapshotsWith(timestamps, snapshots)).toBe(false);
    expect(readsSnapshotsWith(events, timestamps)).toBe(false);
  });
});
