import {
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  NotFoundError,
  PersistencePolicy,
  SequencedItem,
  SequencedItemMapper,
  VersionedEntityEvent,
} from '@es/core';
import { Example, createNewExample } from '../src/index.js';

test("the seed's usage, on the in-memory backend", async () => {
  const eventStore = new EventStore({
    activeRecordStrategy: new InMemoryActiveRecordStrategy({ sequencedItemClass: SequencedItem }),
    sequencedItemMapper: new SequencedItemMapper({
      sequencedItemClass: SequencedItem,
      sequenceIdAttrName: 'originatorId',
      positionAttrName: 'originatorVersion',
    }),
  });
  const exampleRepository = new EventSourcedRepository<Example>({ eventStore, mutator: Example.mutate });
  const persistencePolicy = new PersistencePolicy(eventStore, { eventType: VersionedEntityEvent });
  try {
    const entity = createNewExample({ foo: 'bar1' });
    expect(await exampleRepository.has(entity.id)).toBe(true);
    expect((await exampleRepository.get(entity.id)).foo).toBe('bar1');
    entity.foo = 'bar2';
    expect((await exampleRepository.get(entity.id)).foo).toBe('bar2');
    entity.discard();
    expect(await exampleRepository.has(entity.id)).toBe(false);
    await expect(exampleRepository.get(entity.id)).rejects.toBeInstanceOf(NotFoundError);
  } finally {
    await persistencePolicy.close();
  }
});
