// The seed's "Using Cassandra" page, translated line by line.
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '@es/cassandra';
import {
  EventSourcedRepository,
  EventStore,
  PersistencePolicy,
  SequencedItem,
  SequencedItemMapper,
  VersionedEntityEvent,
} from '@es/core';
import { Example, createNewExample } from '@es/example';

/** Sets up the connection and the tables, as the seed does before creating the application. */
export async function setupCassandra(
  settings: CassandraSettings = new CassandraSettings(),
): Promise<CassandraDatastore> {
  const cassandraDatastore = new CassandraDatastore({
    settings,
    tables: [CqlIntegerSequencedItem],
  });

  await cassandraDatastore.setupConnection();
  await cassandraDatastore.setupTables();
  return cassandraDatastore;
}

/**
 * The seed's CassandraApplication. As in the seed, the datastore is not passed to the strategy: it uses
 * the connection `setupConnection()` made.
 */
export class CassandraApplication {
  readonly eventStore: EventStore;
  readonly exampleRepository: EventSourcedRepository<Example>;
  readonly persistencePolicy: PersistencePolicy;

  constructor() {
    this.eventStore = new EventStore({
      activeRecordStrategy: new CassandraActiveRecordStrategy({
        activeRecordClass: CqlIntegerSequencedItem,
        sequencedItemClass: SequencedItem,
      }),
      sequencedItemMapper: new SequencedItemMapper({
        sequencedItemClass: SequencedItem,
        sequenceIdAttrName: 'originatorId',
        positionAttrName: 'originatorVersion',
      }),
    });
    this.exampleRepository = new EventSourcedRepository<Example>({
      eventStore: this.eventStore,
      mutator: Example.mutate,
    });
    this.persistencePolicy = new PersistencePolicy(this.eventStore, { eventType: VersionedEntityEvent });
  }

  createExample(foo: string): Example {
    return createNewExample({ foo });
  }

  /** Stops persisting and waits for the queued writes (rethrowing a failure). */
  close(): Promise<void> {
    return this.persistencePolicy.close();
  }

  // Python's `with CassandraApplication() as app:` is `await using app = new CassandraApplication()`.
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
