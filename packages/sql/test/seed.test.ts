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
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem } from '../src/index.js';
import { describeEachDialect, uniqueName } from './dialects.js';

describeEachDialect("the seed's usage", (dialect) => {
  // The seed's set-up: settings, a datastore with the integer sequenced item table, connection, tables.
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('seed'));
  const datastore = new SqlDatastore({ settings: dialect.settings(), tables: [table] });

  beforeAll(async () => {
    await datastore.setupConnection();
    await datastore.setupTables();
  });
  afterAll(async () => {
    await datastore.dropTables();
    await datastore.close();
  });

  /** The seed's application class, with the SQL active record strategy. */
  class SqlApplication {
    readonly eventStore = new EventStore({
      activeRecordStrategy: new SqlActiveRecordStrategy({
        datastore,
        table,
        sequencedItemClass: SequencedItem,
      }),
      sequencedItemMapper: new SequencedItemMapper({
        sequencedItemClass: SequencedItem,
        sequenceIdAttrName: 'originatorId',
        positionAttrName: 'originatorVersion',
      }),
    });
    readonly exampleRepository = new EventSourcedRepository<Example>({
      eventStore: this.eventStore,
      mutator: Example.mutate,
    });
    readonly persistencePolicy = new PersistencePolicy(this.eventStore, { eventType: VersionedEntityEvent });

    createExample(foo: string): Example {
      return createNewExample({ foo });
    }

    close(): Promise<void> {
      return this.persistencePolicy.close();
    }
  }

  it('runs as on the in-memory backend, and the events are in the table', async () => {
    const app = new SqlApplication();
    let id: string;
    try {
      const entity = app.createExample('bar1');
      id = entity.id;
      expect(await app.exampleRepository.has(entity.id)).toBe(true);
      expect((await app.exampleRepository.get(entity.id)).foo).toBe('bar1');

      entity.foo = 'bar2';
      expect((await app.exampleRepository.get(entity.id)).foo).toBe('bar2');

      // Discard the entity.
      entity.discard();
      expect(await app.exampleRepository.has(entity.id)).toBe(false);
      await expect(app.exampleRepository.get(entity.id)).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await app.close();
    }

    // Stored in SQL, not in memory: a fresh application on a fresh connection reads the same history.
    const rows = await datastore.db
      .selectFrom(table.tableName)
      .select(['sequence_id', 'position', 'topic'])
      .orderBy('id')
      .execute();
    expect(rows.map((r) => [String(r.sequence_id), Number(r.position), r.topic])).toEqual([
      [id, 0, 'example.Example.Created'],
      [id, 1, 'example.Example.AttributeChanged'],
      [id, 2, 'example.Example.Discarded'],
    ]);
    const other = new SqlDatastore({ settings: dialect.settings(), tables: [table] });
    try {
      const strategy = new SqlActiveRecordStrategy({ datastore: other, table });
      expect((await strategy.getItems(id)).map((i) => i.position)).toEqual([0, 1, 2]);
    } finally {
      await other.close();
    }
  });
});
