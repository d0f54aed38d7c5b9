// The seed's "Using Cassandra" page (using-cassandra.rst), translated line by line, against the real node:
// the seed's contract, spelled out. Every other backend's seed test runs the same scenario through
// runSeedScenario (@es/example). The seed's CassandraApplication lives here, once.
import {
  EventSourcedRepository,
  EventStore,
  NotFoundError,
  PersistencePolicy,
  SequencedItem,
  SequencedItemMapper,
  VersionedEntityEvent,
} from '@es/core';
import { Example, createNewExample } from '@es/example';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '../src/index.js';
import { cassandraAvailable, cassandraUrl, dropAndClose, testKeyspace } from './helpers.js';

describeIfAvailable(cassandraAvailable, "the seed's usage example (Using Cassandra)", () => {
  // The seed uses the default keyspace; the test uses its own, so that it can drop it afterwards.
  const keyspace = testKeyspace('seed');
  let cassandraDatastore: CassandraDatastore;

  beforeAll(async () => {
    // Setup the connection and the database tables, using the library classes for Cassandra.
    cassandraDatastore = new CassandraDatastore({
      settings: new CassandraSettings({ url: cassandraUrl, keyspace }),
      tables: [CqlIntegerSequencedItem],
    });

    await cassandraDatastore.setupConnection();
    await cassandraDatastore.setupTables();
  }, 120_000);

  afterAll(() => dropAndClose(cassandraDatastore), 120_000);

  // The Cassandra datastore object is not passed into the Cassandra active record strategy.
  class CassandraApplication {
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

    close(): Promise<void> {
      return this.persistencePolicy.close();
    }

    [Symbol.asyncDispose](): Promise<void> {
      return this.close();
    }
  }

  it('can be used in exactly the same way as the example application', async () => {
    let id: string;
    {
      await using app = new CassandraApplication();

      const entity = app.createExample('bar1');
      id = entity.id;

      expect(await app.exampleRepository.has(entity.id)).toBe(true);

      expect((await app.exampleRepository.get(entity.id)).foo).toBe('bar1');

      entity.foo = 'bar2';

      expect((await app.exampleRepository.get(entity.id)).foo).toBe('bar2');

      // Discard the entity.
      entity.discard();
      expect(await app.exampleRepository.has(entity.id)).toBe(false);

      // The seed expects a KeyError; here the repository rejects with NotFoundError.
      await expect(app.exampleRepository.get(entity.id)).rejects.toBeInstanceOf(NotFoundError);
    }

    // The three events are in Cassandra: read them back through a fresh strategy.
    const stored = await new CassandraActiveRecordStrategy({
      activeRecordClass: CqlIntegerSequencedItem,
    }).getItems(id);
    expect(stored.map((item) => [item.position, item.topic])).toEqual([
      [0, 'example.Example.Created'],
      [1, 'example.Example.AttributeChanged'],
      [2, 'example.Example.Discarded'],
    ]);
  }, 60_000);
});
