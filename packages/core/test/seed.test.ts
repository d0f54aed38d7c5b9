/**
 * The seed's usage (using-cassandra.rst), on the in-memory backend, with a local Example-like entity:
 * the same steps as packages/example/test/seed.test.ts, which core's tests must not import.
 */
import {
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  NotFoundError,
  PersistencePolicy,
  SequencedItem,
  SequencedItemMapper,
  StoredEvent,
  VersionedEntityEvent,
} from '../src/index.js';
import { Widget, createWidget, widgetPublisher } from './fixtures.js';

describe("the seed's usage", () => {
  it.each([
    ['SequencedItem', SequencedItem],
    ['StoredEvent', StoredEvent],
  ] as const)('works with the %s item class', async (_name, itemClass) => {
    const activeRecordStrategy = new InMemoryActiveRecordStrategy<SequencedItem | StoredEvent>({
      sequencedItemClass: itemClass as new (
        ...args: [string, number, string, string]
      ) => SequencedItem | StoredEvent,
    });
    const eventStore = new EventStore({
      activeRecordStrategy,
      sequencedItemMapper: new SequencedItemMapper<SequencedItem | StoredEvent>({
        sequencedItemClass: itemClass as new (
          ...args: [string, number, string, string]
        ) => SequencedItem | StoredEvent,
        sequenceIdAttrName: 'originatorId',
        positionAttrName: 'originatorVersion',
      }),
    });
    const exampleRepository = new EventSourcedRepository<Widget>({ eventStore, mutator: Widget.mutate });
    const persistencePolicy = new PersistencePolicy(eventStore, {
      eventType: VersionedEntityEvent,
      publisher: widgetPublisher,
    });
    try {
      // Construct a new example entity.
      const entity = createWidget('bar1');

      // Check the entity is available in the repository.
      expect(await exampleRepository.has(entity.id)).toBe(true);
      expect((await exampleRepository.get(entity.id)).foo).toBe('bar1');

      // Update an attribute.
      entity.foo = 'bar2';
      expect((await exampleRepository.get(entity.id)).foo).toBe('bar2');

      // Discard the entity.
      entity.discard();
      expect(await exampleRepository.has(entity.id)).toBe(false);
      await expect(exampleRepository.get(entity.id)).rejects.toBeInstanceOf(NotFoundError);

      // The items are stored in the configured class.
      const items = await activeRecordStrategy.getItems(entity.id);
      expect(items).toHaveLength(3);
      expect(items.every((item) => item instanceof itemClass)).toBe(true);
    } finally {
      await persistencePolicy.close();
    }
  });
});
