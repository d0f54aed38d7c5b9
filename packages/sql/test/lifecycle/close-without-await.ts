/**
 * Run as a child process by lifecycle.test.ts: stores entities through synchronous setters, closes
 * WITHOUT await and returns from the script. The parent counts what was stored and checks that the
 * process exited by itself. argv: url, table name, entities, changes per entity, wiring (app | seed).
 */
import {
  EventStore,
  PersistencePolicy,
  SequencedItemMapper,
  VersionedEntityEvent,
  Application,
} from '@es/core';
import { Example, createNewExample } from '@es/example';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  openStore,
} from '../../src/index.js';

const [url, tableName, entities, changes, wiring] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const table = SqlIntegerSequencedItem.withTableName(tableName);
const ids: string[] = [];

if (wiring === 'seed') {
  // The README's wiring: a datastore, an event store, a persistence policy on the process-wide publisher.
  const datastore = await SqlDatastore.open({ settings: new SqlSettings(url), tables: [table] });
  const eventStore = new EventStore({
    activeRecordStrategy: new SqlActiveRecordStrategy({ datastore, table }),
    sequencedItemMapper: new SequencedItemMapper({
      sequenceIdAttrName: 'originatorId',
      positionAttrName: 'originatorVersion',
    }),
  });
  const persistencePolicy = new PersistencePolicy(eventStore, { eventType: VersionedEntityEvent });
  for (let i = 0; i < Number(entities); i++) {
    const entity = createNewExample({ foo: 'v0' });
    for (let c = 1; c <= Number(changes); c++) entity.foo = `v${c}`;
    ids.push(entity.id);
  }
  // The mistake under test: no await.
  void persistencePolicy.close();
  void datastore.close();
} else {
  const store = await openStore(url, {
    createTables: true,
    tableNames: { events: tableName, snapshots: `${tableName}_s`, tracking: `${tableName}_t` },
  });
  const app = await Application.open({ store });
  for (let i = 0; i < Number(entities); i++) {
    const entity = app.create(Example, { foo: 'v0' });
    for (let c = 1; c <= Number(changes); c++) entity.foo = `v${c}`;
    ids.push(entity.id);
  }
  void app.close();
}
process.stdout.write(`${JSON.stringify(ids)}\n`);
