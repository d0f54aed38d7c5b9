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
import { Example, checkSeedScenario, createNewExample, runSeedScenario } from '../src/index.js';

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

test('runSeedScenario runs on an application written out by hand, as the seed writes it', async () => {
  const eventStore = new EventStore({
    activeRecordStrategy: new InMemoryActiveRecordStrategy({ sequencedItemClass: SequencedItem }),
    sequencedItemMapper: new SequencedItemMapper({ sequencedItemClass: SequencedItem }),
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
  } finally {
    await persistencePolicy.close();
  }
});
