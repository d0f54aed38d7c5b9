import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
  CqlSnapshot,
} from '@es/cassandra';
import { LibraryAdapter } from './library.js';

/** @es/cassandra on the node at `url` (a `cassandra://` URL), in a keyspace of its own. */
export function libraryCassandra(url: string): LibraryAdapter {
  const settings = new CassandraSettings({ url, keyspace: 'es_bench' });
  const datastore = new CassandraDatastore({ settings, tables: [CqlIntegerSequencedItem, CqlSnapshot] });
  return new LibraryAdapter({
    strategyDescription: `CassandraActiveRecordStrategy (CqlIntegerSequencedItem, CqlSnapshot; ${settings.writeConsistency} / ${settings.serialConsistency})`,
    unsupported: {
      log: 'this store is made without the feed (its costs are measured apart: pnpm --filter @es/bench bench:feed)',
    },
    async open() {
      await datastore.setupConnection();
      await datastore.dropTables();
      await datastore.setupTables();
      return {
        events: new CassandraActiveRecordStrategy({ activeRecordClass: CqlIntegerSequencedItem, datastore }),
        snapshots: new CassandraActiveRecordStrategy({ activeRecordClass: CqlSnapshot, datastore }),
      };
    },
    close: () => datastore.close(),
    async serverVersion() {
      const result = await datastore.client.execute('SELECT release_version FROM system.local');
      return `Cassandra ${String(result.first()?.get('release_version'))}`;
    },
  });
}
