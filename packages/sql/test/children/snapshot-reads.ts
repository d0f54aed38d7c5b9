/**
 * Child of snapshot-deopts.test.ts, run under `node --trace-deopt`: a first snapshot-and-events read
 * of a stream without a snapshot (a page of 5,000 rows: long enough for V8 to compile the row loop on
 * stack replacement), then a snapshot, then many reads of the snapshot alone (one row), between two
 * markers on stdout, where V8 writes its trace too.
 */
import { SequencedItem } from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlSnapshot,
} from '../../src/index.js';

const READS = Number(process.argv[2] ?? 300);
const eventsTable = SqlIntegerSequencedItem.withTableName('deopt_events');
const snapshotsTable = SqlSnapshot.withTableName('deopt_snapshots');
const datastore = new SqlDatastore({
  settings: new SqlSettings({ url: 'sqlite::memory:' }),
  tables: [eventsTable, snapshotsTable],
});
await datastore.setupConnection();
await datastore.setupTables();
const events = new SqlActiveRecordStrategy({ datastore, table: eventsTable });
const snapshots = new SqlActiveRecordStrategy({ datastore, table: snapshotsTable });
const id = '6f1c1a40-8f5e-4a53-9f56-2f1b8a7b2c11';
const length = 6000;
for (let from = 0; from < length; from += 100)
  await events.append(
    Array.from({ length: 100 }, (_, i) => new SequencedItem(id, from + i, 't.E', `{"p":${from + i}}`)),
  );
const first = await events.getSnapshotTail(snapshots, id, { limit: 5000 });
if (first.snapshot !== undefined || first.events.length !== 5000) throw new Error('unexpected first read');
await snapshots.append(new SequencedItem(id, length, 'es.Snapshot', '{}'));
console.log('--- reads from the snapshot: start');
for (let i = 0; i < READS; i++) {
  const read = await events.getSnapshotTail(snapshots, id, { limit: 5000 });
  if (read.snapshot?.position !== length || read.events.length !== 0) throw new Error('unexpected read');
}
console.log('--- reads from the snapshot: end');
await datastore.close();
