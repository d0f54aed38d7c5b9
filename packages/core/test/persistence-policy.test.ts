import {
  DomainEvent,
  EntityEvent,
  EventPublisher,
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  PersistencePolicy,
  SequencedItemMapper,
  VersionedEntityEvent,
  defaultPublisher,
  type SequencedItem,
} from '../src/index.js';
import { Widget, createWidget, deferred, nextMacrotask, uuid, widgetPublisher } from './fixtures.js';

class GatedStrategy extends InMemoryActiveRecordStrategy {
  gate: Promise<void> | undefined;
  protected override async insert(items: readonly SequencedItem[]): Promise<void> {
    if (this.gate) await this.gate;
    return super.insert(items);
  }
}

function setUp() {
  const strategy = new GatedStrategy();
  const eventStore = new EventStore({
    activeRecordStrategy: strategy,
    sequencedItemMapper: new SequencedItemMapper(),
  });
  const publisher = new EventPublisher();
  const policy = new PersistencePolicy(eventStore, { eventType: VersionedEntityEvent, publisher });
  return { strategy, eventStore, publisher, policy };
}

const created = (id = uuid()): DomainEvent =>
  new Widget.Created({ originatorId: id, originatorVersion: 0, foo: 'x' });

describe('PersistencePolicy', () => {
  it('stores published events of its event type, including subclasses', async () => {
    const { strategy, publisher, policy } = setUp();
    const event = created();
    publisher.publish(event);
    await policy.flush();
    const id = (event as VersionedEntityEvent).originatorId;
    expect((await strategy.getItems(id)).map((i) => i.topic)).toEqual(['test.Widget.Created']);
    await policy.close();
  });

  it('ignores events of other types, and lists that hold any', async () => {
    const { strategy, publisher, policy } = setUp();
    publisher.publish(new DomainEvent());
    publisher.publish(new EntityEvent({ originatorId: uuid() }));
    publisher.publish([created(), new DomainEvent()]);
    await policy.close();
    expect(await strategy.listSequenceIds()).toEqual([]);
    expect(await strategy.maxNotificationId()).toBe(0);
  });

  it('stores a published list of one entity in one atomic append', async () => {
    const { strategy, publisher, policy } = setUp();
    const id = uuid();
    publisher.publish([
      created(id),
      new Widget.AttributeChanged({ originatorId: id, originatorVersion: 1, name: 'foo', value: 'y' }),
    ]);
    await policy.close();
    const log = await strategy.selectNotifications(1, 10);
    expect(log.map((n) => n.position)).toEqual([0, 1]);
  });

  it('uses the process-wide publisher by default', async () => {
    const strategy = new InMemoryActiveRecordStrategy();
    const eventStore = new EventStore({
      activeRecordStrategy: strategy,
      sequencedItemMapper: new SequencedItemMapper(),
    });
    const policy = new PersistencePolicy(eventStore, { eventType: VersionedEntityEvent });
    const event = created();
    defaultPublisher.publish(event);
    await policy.close();
    expect(await strategy.getItems((event as VersionedEntityEvent).originatorId)).toHaveLength(1);
    defaultPublisher.publish(created());
    await nextMacrotask();
    expect(await strategy.listSequenceIds()).toHaveLength(1);
  });

  it('close stops storing new events and waits for the queued ones', async () => {
    const { strategy, publisher, policy, eventStore } = setUp();
    const gate = deferred();
    strategy.gate = gate.promise;
    const queued = created();
    publisher.publish(queued);
    let closed = false;
    const closing = policy.close().then(() => (closed = true));
    publisher.publish(created());
    await nextMacrotask();
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect(await strategy.listSequenceIds()).toEqual([(queued as VersionedEntityEvent).originatorId]);
    expect(policy.eventStore).toBe(eventStore);
  });
});

describe('an event that cannot be stored never moves its entity on', () => {
  it('a change whose value cannot be encoded throws, and the entity keeps its version and state', async () => {
    const strategy = new InMemoryActiveRecordStrategy();
    const eventStore = new EventStore({
      activeRecordStrategy: strategy,
      sequencedItemMapper: new SequencedItemMapper(),
    });
    const policy = new PersistencePolicy(eventStore, {
      eventType: VersionedEntityEvent,
      publisher: widgetPublisher,
    });
    try {
      const widget = createWidget('a');
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      expect(() => (widget.foo = circular as unknown as string)).toThrow(
        /nested deeper than 100 levels: the data is circular/,
      );
      expect(widget.version).toBe(1);
      expect(widget.foo).toBe('a');
      widget.foo = 'b';
      const repository = new EventSourcedRepository<Widget>({ eventStore, mutator: Widget.mutate });
      const loaded = await repository.get(widget.id);
      expect(loaded.foo).toBe('b');
      expect((await strategy.getItems(widget.id)).map((i) => i.position)).toEqual([0, 1]);
    } finally {
      await policy.close();
    }
  });
});
