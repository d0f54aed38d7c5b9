import { type OpenStoreOptions, type ProcessRecorder, type SequencedItem, type Store } from '@es/core';
import { disposable } from '@es/core/backend';
import type { Transaction } from 'kysely';
import { SqlDatastore } from './datastore.js';
import { SqlSettings } from './settings.js';
import { SqlActiveRecordStrategy } from './strategy.js';
import { SqlIntegerSequencedItem, SqlSnapshot, SqlTracking, type SchemalessDatabase } from './tables.js';

/**
 * A store for an Application from one URL: `sqlite:./app.sqlite`, `sqlite::memory:`,
 * `postgres://user@host:5432/db`, `mysql://root@host:3306/db` (default: ES_SQL_URL, else SQLite in
 * memory). Events go to `integer_sequenced_items` (with the notification log), snapshots to `snapshots`,
 * projection tracking to `tracking`; `createTables: true` creates those that do not exist yet. The
 * store owns its connections: `close()` releases them. `openStore` from @es/core calls this for SQL URLs.
 */
export interface SqlStoreOptions extends OpenStoreOptions {
  /** Other names for the three tables (the defaults are the seed's). */
  tableNames?: { events?: string; snapshots?: string; tracking?: string };
}

export async function openStore(
  url?: string,
  options: SqlStoreOptions = {},
): Promise<
  Store<ProcessRecorder<SequencedItem, Transaction<SchemalessDatabase>>> & {
    readonly datastore: SqlDatastore;
    [Symbol.asyncDispose](): Promise<void>;
  }
> {
  const settings = new SqlSettings(url === undefined ? {} : { url });
  const names = options.tableNames ?? {};
  const events = names.events ? SqlIntegerSequencedItem.withTableName(names.events) : SqlIntegerSequencedItem;
  const snapshots = names.snapshots ? SqlSnapshot.withTableName(names.snapshots) : SqlSnapshot;
  const tracking = names.tracking ? SqlTracking.withTableName(names.tracking) : SqlTracking;
  const datastore = new SqlDatastore({ settings, tables: [events, snapshots, tracking] });
  try {
    await datastore.setupConnection();
    if (options.createTables) await datastore.setupTables();
  } catch (error) {
    await datastore.close();
    throw error;
  }
  return disposable({
    datastore,
    // An integer table keeps the log and the tracking table is given: a process recorder.
    events: new SqlActiveRecordStrategy({
      datastore,
      table: events,
      tracking,
    }) as unknown as ProcessRecorder<SequencedItem, Transaction<SchemalessDatabase>>,
    snapshots: new SqlActiveRecordStrategy({ datastore, table: snapshots }),
    description: String(settings),
    close: () => datastore.close(),
  });
}
