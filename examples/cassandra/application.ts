import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '@es/cassandra';
import { ExampleApplication } from '@es/example';

/**
 * The example application on Cassandra at `url` (`cassandra://host:port/keyspace?localDataCenter=dc`;
 * keyspace `eventsourcing` when the URL names none). Sets up the connection and the tables as the seed
 * does, creating the keyspace and table if missing; `app.close()` closes the connection.
 */
export async function createApplication(url: string): Promise<ExampleApplication> {
  const datastore = new CassandraDatastore({
    settings: new CassandraSettings({ url }),
    tables: [CqlIntegerSequencedItem],
  });
  try {
    await datastore.setupConnection();
    await datastore.setupTables();
  } catch (error) {
    await datastore.close();
    throw error;
  }
  return new ExampleApplication({
    activeRecordStrategy: new CassandraActiveRecordStrategy({
      activeRecordClass: CqlIntegerSequencedItem,
      datastore,
    }),
    onClose: () => datastore.close(),
  });
}

/** Where `createApplication(url)` keeps the events (never with the password). */
export function dataLocation(url: string): string {
  const settings = new CassandraSettings({ url });
  return `Cassandra at ${settings.address}, table ${settings.keyspace}.${CqlIntegerSequencedItem.tableName}`;
}
