import { randomUUID } from 'node:crypto';
import { NotSupportedError, SequencedItem, readsSnapshotsWith } from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSnapshot,
  SqlTimestampSequencedItem,
} from '../src/index.js';
import { defineSnapshotTailSuite } from '@es/testing/conformance';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

describeEachDialect('the newest snapshot and the events after it in one statement', (dialect) => {
  const eventsTable = SqlIntegerSequencedItem.withTableName(uniqueName('tail_events'));
  const snapshotsTable = SqlSnapshot.withTableName(uniqueName('tail_snapshots'));
  const timestampTable = SqlTimestampSequencedItem.withTableName(uniqueName('tail_timestamps'));
  const datastore = useDatastore(dialect, [eventsTable, snapshotsTable, timestampTable]);

  async function stores(length = 10, snapshotsAt: readonly number[] = [3, 7]) {
    const events = new SqlActiveRecordStrategy({ datastore: datastore(), table: eventsTable });
    const snapshots = new SqlActiveRecordStrategy({ datastore: datastore(), table: snapshotsTable });
    const id = randomUUID();
    await events.append(Array.from({ length }, (_, p) => new SequencedItem(id, p, 't.E', `{"p":${p}}`)));
    for (const at of snapshotsAt)
      await snapshots.append(new SequencedItem(id, at, 'es.Snapshot', `{"at":${at}}`));
    return { events, snapshots, id };
  }

  // The contract (@es/testing): the answers are those of the two reads one after the other.
  defineSnapshotTailSuite({
    name: dialect.name,
    createStores: async () => ({
      events: new SqlActiveRecordStrategy({ datastore: datastore(), table: eventsTable }),
      snapshots: new SqlActiveRecordStrategy({ datastore: datastore(), table: snapshotsTable }),
    }),
  });

  it('is one statement, whose id may be given in upper case; an unknown id has neither', async () => {
    const { events, snapshots, id } = await stores(1200, [1000]);
    const connection = await datastore().use(async (c) => c);
    const select = jest.spyOn(connection, 'select');
    try {
      const read = await events.getSnapshotTail(snapshots, id.toUpperCase(), { limit: 1000 });
      expect(select).toHaveBeenCalledTimes(1);
      expect(read.snapshot?.position).toBe(1000);
      expect(read.snapshot?.sequenceId).toBe(id);
      expect(read.events.map((e) => e.position)).toEqual(Array.from({ length: 200 }, (_, i) => 1000 + i));
      expect(await events.getSnapshotTail(snapshots, randomUUID(), { limit: 5 })).toEqual({
        snapshot: undefined,
        events: [],
      });
    } finally {
      select.mockRestore();
    }
  });

  it('only with a snapshots table of the same datastore, under an integer table', async () => {
    const events = new SqlActiveRecordStrategy({ datastore: datastore(), table: eventsTable });
    const snapshots = new SqlActiveRecordStrategy({ datastore: datastore(), table: snapshotsTable });
    const timestamps = new SqlActiveRecordStrategy({ datastore: datastore(), table: timestampTable });
    const elsewhere = new SqlDatastore({ settings: dialect.settings(), tables: [snapshotsTable] });
    try {
      const there = new SqlActiveRecordStrategy({ datastore: elsewhere, table: snapshotsTable });
      expect(readsSnapshotsWith(events, there)).toBe(false);
      expect(readsSnapshotsWith(events, events)).toBe(false);
      expect(readsSnapshotsWith(timestamps, snapshots)).toBe(false);
      await expect(events.getSnapshotTail(there, randomUUID(), { limit: 1 })).rejects.toBeInstanceOf(
        NotSupportedError,
      );
    } finally {
      await elsewhere.close();
    }
  });
});
