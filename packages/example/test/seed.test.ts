/**
 * The seed's scenario (using-cassandra.rst) on the in-memory backend, through `runSeedScenario`, the one
 * copy of the scenario every backend's test runs. The seed's own lines, written out literally, run in
 * packages/cassandra/test/seed.test.ts (the seed's CassandraApplication).
 */
import {
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  PersistencePolicy,
  SequencedItem,
  SequencedItemMapper,
  StoredEvent,
  VersionedEntityEvent,
} from '@es/core';
import { Example, checkSeedScenario, createNewExample, runSeedScenario } from '../src/index.js';

type ItemClass = new (...args: [string, number, string, string]) => SequencedItem | StoredEvent;

describe("the seed's application, written out as the seed writes it", () => {
  it.each([
    ['SequencedItem', SequencedItem],
    ['StoredEvent', StoredEvent],
  ] as const)(
    'runs the scenario with the %s item class, and stores items of that class',
    async (_, itemClass) => {
      const activeRecordStrategy = new InMemoryActiveRecordStrategy<SequencedItem | StoredEvent>({
        sequencedItemClass: itemClass as ItemClass,
      });
      const eventStore = new EventStore({
        activeRecordStrategy,
        sequencedItemMapper: new SequencedItemMapper<SequencedItem | StoredEvent>({
          sequencedItemClass: itemClass as ItemClass,
          sequenceIdAttrName: 'originatorId',
          positionAttrName: 'originatorVersion',
        }),
      });
      const app = {
        eventStore,
        exampleRepository: new EventSourcedRepository<Example>({ eventStore, mutator: Example.mutate }),
        createExample: (foo: string) => createNewExample({ foo }),
      };
      const persistencePolicy = new PersistencePolicy(eventStore, { eventType: VersionedEntityEvent });
      try {
        const report = await runSeedScenario(app);
        expect(checkSeedScenario(report)).toEqual([]);
        expect(report.notifications?.map((n) => n.topic)).toEqual([
          'example.Example.Created',
          'example.Example.AttributeChanged',
          'example.Example.Discarded',
        ]);
        const items = await activeRecordStrategy.getItems(report.entityId);
        expect(items.map((item) => item.constructor)).toEqual([itemClass, itemClass, itemClass]);
      } finally {
        await persistencePolicy.close();
      }
    },
  );
});
