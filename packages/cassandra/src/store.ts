import { type AggregateRecorder, type OpenStoreOptions, type SequencedItem, type Store } from '@es/core';
import { disposable } from '@es/core/backend';
import { CassandraDatastore } from './datastore.js';
import { CassandraSettings } from './settings.js';
import { CassandraActiveRecordStrategy } from './strategy.js';
import { CqlIntegerSequencedItem, CqlSnapshot } from './tables.js';

/**
 * A store for an Application from one URL: `cassandra://host[:port][,host...]/keyspace?localDataCenter=dc`
 * (see CassandraSettings for every option; default: the CASSANDRA_* variables, else a local node).
 * Events go to `integer_sequenced_items`, snapshots to `snapshots`; `createTables: true` creates the
 * keyspace and tables that do not exist yet. The store owns its connection: `close()` releases it.
 * `openStore` from @es/core calls this for cassandra:// URLs.
 */
export async function openStore(
  url?: string,
  options: OpenStoreOptions = {},
): Promise<
  Store<AggregateRecorder<SequencedItem>> & {
    readonly datastore: CassandraDatastore;
    [Symbol.asyncDispose](): Promise<void>;
  }
> {
  const settings = new CassandraSettings(url === undefined ? {} : { url });
  const datastore = new CassandraDatastore({ settings, tables: [CqlIntegerSequencedItem, CqlSnapshot] });
  try {
    await datastore.setupConnection();
    if (options.createTables) await datastore.setupTables();
  } catch (error) {
    await datastore.close();
    throw error;
  }
  return disposable({
    datastore,
    events: new CassandraActiveRecordStrategy({ datastore, table: CqlIntegerSequencedItem }),
    snapshots: new CassandraActiveRecordStrategy({ datastore, table: CqlSnapshot }),
    description: settings.address,
    close: () => datastore.close(),
  });
}
