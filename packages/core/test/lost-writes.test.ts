/**
 * A writer whose earlier write was lost must not build on it (issue 10, defect 1): the store's
 * contiguity check refuses the append that would leave a gap, so the entity stays loadable and what is
 * stored is what it was.
 */
import {
  ConcurrencyError,
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  PersistencePolicy,
  SequencedItemMapper,
  type SequencedItem,
  StoreConnectionError,
  VersionedEntityEvent,
} from '../src/index.js';
import { Widget, createWidget, rejectionOf, widgetPublisher } from './fixtures.js';

/** A store that is unreachable while `down` is set: nothing reaches it. */
class Unreachable extends InMemoryActiveRecordStrategy {
  down = false;
  protected override async insert(items: readonly SequencedItem[]): Promise<void> {
    if (this.down) throw new StoreConnectionError('cannot connect: the store is unreachable');
    return super.insert(items);
  }
}

function setUp() {
  const strategy = new Unreachable();
  const eventStore = new EventStore({
    activeRecordStrategy: strategy,
    sequencedItemMapper: new SequencedItemMapper(),
  });
  const policy = new PersistencePolicy(eventStore, {
    eventType: VersionedEntityEvent,
    publisher: widgetPublisher,
  });
  const repository = new EventSourcedRepository<Widget>({ eventStore, mutator: Widget.mutate });
  return { strategy, repository, policy };
}

describe('a writer after a lost write', () => {
  it('a setter after a lost setter write is refused (ConcurrencyError), and the entity still loads', async () => {
    const { strategy, repository, policy } = setUp();
    const widget = createWidget('a'); // version 0, stored
    expect((await repository.get(widget.id)).foo).toBe('a');

    strategy.down = true;
    widget.foo = 'b'; // version 1: lost
    expect(await rejectionOf(repository.get(widget.id))).toBeInstanceOf(StoreConnectionError);
    strategy.down = false;

    widget.foo = 'c'; // version 2 would build on the lost version 1
    const error = await rejectionOf(repository.get(widget.id));
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect((error as Error).message).toMatch(/would leave a gap: the sequence ends at 0/);

    const loaded = await repository.get(widget.id);
    expect([loaded.foo, loaded.version]).toEqual(['a', 1]);
    expect((await strategy.getItems(widget.id)).map((i) => i.position)).toEqual([0]);
    // A writer that reloaded continues the stored sequence.
    loaded.foo = 'd';
    expect((await repository.get(widget.id)).foo).toBe('d');
    await policy.close();
  });

  it('an entity whose creation was lost: its next setter does not start the stream at version 1', async () => {
    const { strategy, repository, policy } = setUp();
    strategy.down = true;
    const widget = createWidget('a'); // version 0: lost
    await expect(repository.has(widget.id)).rejects.toBeInstanceOf(StoreConnectionError);
    strategy.down = false;
    widget.foo = 'b';
    await expect(repository.has(widget.id)).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await repository.has(widget.id)).toBe(false);
    expect(await strategy.listSequenceIds()).toEqual([]);
    await policy.close();
  });

  it('in one tracked transaction, a second batch of a sequence must continue the first', async () => {
    const store = new InMemoryActiveRecordStrategy();
    const id = '00000000-0000-4000-8000-000000000001';
    const item = (p: number) => ({ sequenceId: id, position: p, topic: 't', data: '{}' }) as SequencedItem;
    const attempt = store.processWithTracking({ applicationName: 'a', notificationId: 1 }, () => undefined, {
      append: [[item(0)], [item(2)]],
    });
    expect(await rejectionOf(attempt)).toBeInstanceOf(ConcurrencyError);
    expect(await store.maxNotificationId()).toBe(0);
    await store.processWithTracking({ applicationName: 'a', notificationId: 1 }, () => undefined, {
      append: [[item(0)], [item(1)]],
    });
    expect((await store.getItems(id)).map((i) => i.position)).toEqual([0, 1]);
  });
});
