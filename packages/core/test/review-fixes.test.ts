import {
  Application,
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  PersistencePolicy,
  SequencedItemMapper,
  SnapshotStrategy,
  ValidationError,
  DataIntegrityError,
  DomainEvent,
  VersionedEntityEvent,
  SequencedItem,
  Snapshot,
} from '../src/index.js';
import {
  Note,
  Widget,
  createNote,
  createWidget,
  notePublisher,
  rejectionOf,
  uuid,
  widgetPublisher,
} from './fixtures.js';

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
      expect(() => (widget.foo = circular as unknown as string)).toThrow(TypeError);
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

describe('snapshots of unversioned entities', () => {
  it("each snapshot sits at the entity's last event time, so a later snapshot replaces an earlier one", async () => {
    const strategy = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' });
    const mapper = new SequencedItemMapper({ positionAttrName: 'timestamp' });
    const eventStore = new EventStore({ activeRecordStrategy: strategy, sequencedItemMapper: mapper });
    const snapshotStore = new EventStore<Snapshot>({
      activeRecordStrategy: new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' }),
      sequencedItemMapper: new SequencedItemMapper(),
    });
    const snapshotStrategy = new SnapshotStrategy({ snapshotStore });
    const policy = new PersistencePolicy(eventStore, { eventType: DomainEvent, publisher: notePublisher });
    const repository = new EventSourcedRepository<Note>({
      eventStore,
      mutator: Note.mutate,
      snapshotStrategy,
    });
    try {
      const note = createNote('one');
      await repository.takeSnapshot(note.id);
      note.text = 'two';
      await repository.takeSnapshot(note.id);
      note.text = 'three';
      const snapshot = await snapshotStrategy.getSnapshot(note.id);
      expect((snapshot!.state.attributes as { text: string }).text).toBe('two');
      expect((await repository.get(note.id)).text).toBe('three');
    } finally {
      await policy.close();
    }
  });
});

describe('infinite bounds', () => {
  it('a range above +Infinity or below -Infinity is empty, never "unbounded"', async () => {
    const strategy = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' });
    const id = uuid();
    await strategy.append([new SequencedItem(id, 1.5, 't', '{}'), new SequencedItem(id, 2.5, 't', '{}')]);
    expect(await strategy.getItems(id, { gt: Infinity })).toEqual([]);
    expect(await strategy.getItems(id, { lt: -Infinity })).toEqual([]);
    expect(await strategy.getItems(id, { gt: 2, lt: 2 })).toEqual([]);
    expect((await strategy.getItems(id, { gte: -Infinity, lte: Infinity })).length).toBe(2);
    const pages: unknown[] = [];
    for await (const page of strategy.iteratePages(id, { gt: Infinity })) pages.push(page);
    expect(pages).toEqual([]);
  });
});

describe('closing an application', () => {
  it('reports a failed write even when releasing resources fails too', async () => {
    const strategy = new InMemoryActiveRecordStrategy();
    const app = new Application({
      activeRecordStrategy: strategy,
      publisher: widgetPublisher,
      onClose: () => Promise.reject(new Error('pool already closed')),
    });
    const widget = createWidget('x');
    const stale = Widget.mutate(undefined, (await app.eventStore.getDomainEvents(widget.id))[0]!) as Widget;
    widget.foo = 'y';
    stale.foo = 'z'; // the same version: this write conflicts
    const error = await rejectionOf(app.close());
    expect(error).toBeInstanceOf(AggregateError);
    const [writeFailure, closeFailure] = (error as AggregateError).errors;
    expect((writeFailure as Error).name).toBe('ConcurrencyError');
    expect((closeFailure as Error).message).toBe('pool already closed');
  });
});

describe('a "__proto__" field', () => {
  it('is refused in a new event and in stored data, and kept as data in attributes', () => {
    expect(() => new DomainEvent(JSON.parse('{"__proto__": {"x": 1}}'))).toThrow(ValidationError);
    const mapper = new SequencedItemMapper();
    const item = new SequencedItem(
      uuid(),
      0,
      'es.VersionedEntity.Created',
      '{"__proto__":{"polluted":true},"timestamp":1}',
    );
    expect(() => mapper.fromSequencedItem(item)).toThrow(DataIntegrityError);
    const widget = createWidget('a');
    widget.changeAttribute('__proto__', 'plain');
    expect(widget.getAttribute('__proto__')).toBe('plain');
    expect(widget.toState().attributes['__proto__']).toBe('plain');
  });
});
