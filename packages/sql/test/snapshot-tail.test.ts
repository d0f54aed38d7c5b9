import { randomUUID } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
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
import { faultyClient, userClient } from './faults.js';

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

  if (dialect.name === 'mysql') {
    it('on MySQL/MariaDB makes no temporary table (a derived table with a longtext column is one on disk)', async () => {
      const own = userClient(dialect);
      const recorded = faultyClient(own.client);
      const recordedStore = await SqlDatastore.open({
        client: recorded.client,
        tables: [eventsTable, snapshotsTable],
      });
      const s = dialect.settings();
      const session = await createConnection({
        host: s.host,
        port: s.port,
        user: s.user,
        password: s.password,
        database: s.database,
      });
      try {
        const events = new SqlActiveRecordStrategy({ datastore: recordedStore, table: eventsTable });
        const snapshots = new SqlActiveRecordStrategy({ datastore: recordedStore, table: snapshotsTable });
        const id = randomUUID();
        await events.append(
          Array.from({ length: 20 }, (_, p) => new SequencedItem(id, p, 't.E', `{"p":${p}}`)),
        );
        await snapshots.append(new SequencedItem(id, 10, 'es.Snapshot', '{"at":10}'));
        recorded.statements.length = 0;
        const read = await events.getSnapshotTail(snapshots, id, { limit: 1000 });
        expect(read.snapshot?.position).toBe(10);
        expect(read.events.map((e) => e.position)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
        expect(recorded.statements).toHaveLength(1);
        // The statement the store sent, run again on a session of the test's own, which counts its temporary tables.
        await session.query('flush status');
        const [rows] = await session.query(recorded.statements[0]!, [id, id, id, 1000]);
        expect(rows).toHaveLength(11);
        const [status] = await session.query("show session status like 'Created_tmp%tables'");
        expect(
          Object.fromEntries(
            (status as { Variable_name: string; Value: string }[]).map((r) => [
              r.Variable_name,
              Number(r.Value),
            ]),
          ),
        ).toEqual({
          Created_tmp_disk_tables: 0,
          Created_tmp_tables: 0,
        });
      } finally {
        await session.end();
        await recordedStore.close();
        await own.end();
      }
    });
  }
});
