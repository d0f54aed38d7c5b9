import {
  ConcurrencyError,
  EntityEvent,
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  NotFoundError,
  PersistencePolicy,
  SequencedItemMapper,
  Snapshot,
  SnapshotStrategy,
  StoreConnectionError,
  UnknownTopicError,
  ValidationError,
  VersionedEntity,
  VersionedEntityEvent,
  type DomainEvent,
  type Mutator,
  type AggregateRecorder,
  type SequencedItem,
  type SnapshotTail,
} from '../src/index.js';
import { type NormalizedQuery } from '../src/backend.js';
import {
  Note,
  Order,
  Widget,
  createNote,
  createWidget,
  deferred,
  notePublisher,
  rejectionOf,
  uuid,
  widgetPublisher,
} from './fixtures.js';

/** Counts the pages a repository reads. */
class CountingStrategy extends InMemoryActiveRecordStrategy {
  selects: (number | undefined)[] = [];
  /** Snapshot-and-events reads (one round trip each), by their limit. */
  tails: number[] = [];
  appends = 0;
  /** False: a store that cannot read a snapshot with its events, so the repository reads one after the other. */
  readsTogether = true;
  override readsSnapshotsOf(snapshots: AggregateRecorder<any>): boolean {
    return this.readsTogether && super.readsSnapshotsOf(snapshots);
  }
  protected override selectSnapshotTail(
    snapshots: InMemoryActiveRecordStrategy<any>,
    sequenceId: string,
    snapshotUpper: number,
    eventsUpper: number,
    limit: number,
  ): Promise<SnapshotTail<SequencedItem>> {
    this.tails.push(limit);
    return super.selectSnapshotTail(snapshots, sequenceId, snapshotUpper, eventsUpper, limit);
  }
  protected override select(sequenceId: string, q: NormalizedQuery): Promise<SequencedItem[]> {
    this.selects.push(q.limit);
    return super.select(sequenceId, q);
  }
  protected override insert(items: readonly SequencedItem[]): Promise<void> {
    this.appends += 1;
    return super.insert(items);
  }
}

/** A mutator that counts the events it replays. */
function countingMutator<T>(inner: Mutator<T>): Mutator<T> & { replayed: number } {
  const mutator = ((initial: T | undefined, event: DomainEvent) => {
    mutator.replayed += 1;
    return inner(initial, event);
  }) as Mutator<T> & { replayed: number };
  mutator.replayed = 0;
  return mutator;
}

const setUp = (options: SetUpOptions = {}) => setUpWith(options);

interface SetUpOptions {
  snapshots?: boolean;
  snapshotPeriod?: number;
  pageSize?: number;
  strategyPageSize?: number;
  /** Default true: the snapshot and the first page of events in one read (SnapshotTailRecorder). */
  readsTogether?: boolean;
}

function setUpWith(options: SetUpOptions = {}) {
  const strategy = new CountingStrategy(
    options.strategyPageSize !== undefined ? { pageSize: options.strategyPageSize } : {},
  );
  strategy.readsTogether = options.readsTogether ?? true;
  const mapper = new SequencedItemMapper();
  const eventStore = new EventStore({ activeRecordStrategy: strategy, sequencedItemMapper: mapper });
  const snapshotRecords = new CountingStrategy({ contiguous: false });
  const snapshotStore = new EventStore<Snapshot>({
    activeRecordStrategy: snapshotRecords,
    sequencedItemMapper: mapper,
  });
  const snapshots = options.snapshots ? new SnapshotStrategy({ snapshotStore }) : undefined;
  const mutator = countingMutator<Widget>(Widget.mutate);
  const repository = new EventSourcedRepository<Widget>({
    eventStore,
    mutator,
    ...(snapshots ? { snapshotStrategy: snapshots } : {}),
    ...(options.snapshotPeriod !== undefined ? { snapshotPeriod: options.snapshotPeriod } : {}),
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
  });
  const policy = new PersistencePolicy(eventStore, {
    eventType: VersionedEntityEvent,
    publisher: widgetPublisher,
  });
  return { strategy, eventStore, snapshotRecords, snapshotStore, snapshots, mutator, repository, policy };
}

/** A widget with `changes` attribute changes after its Created event: at version changes + 1. */
function widgetWithChanges(changes: number): Widget {
  const widget = createWidget('v0');
  for (let i = 1; i <= changes; i++) widget.foo = `v${i}`;
  return widget;
}

describe('EventSourcedRepository', () => {
  let setup: ReturnType<typeof setUp>;
  afterEach(async () => {
    await setup.policy.close();
  });

  it('has and get: an entity exists once created', async () => {
    setup = setUp();
    const { repository } = setup;
    const widget = createWidget('bar');
    expect(await repository.has(widget.id)).toBe(true);
    const loaded = await repository.get(widget.id);
    expect(loaded).toBeInstanceOf(Widget);
    expect(loaded).not.toBe(widget);
    expect(loaded.toState()).toEqual(widget.toState());
  });

  it('an unknown id: has is false, get rejects with NotFoundError naming the id', async () => {
    setup = setUp();
    const id = uuid();
    expect(await setup.repository.has(id)).toBe(false);
    const error = await rejectionOf(setup.repository.get(id));
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).id).toBe(id);
  });

  it('a discarded entity is not found', async () => {
    setup = setUp();
    const widget = createWidget('bar');
    widget.discard();
    expect(await setup.repository.has(widget.id)).toBe(false);
    await expect(setup.repository.get(widget.id)).rejects.toBeInstanceOf(NotFoundError);
    // Its earlier versions still are.
    expect((await setup.repository.get(widget.id, { version: 1 })).foo).toBe('bar');
  });

  it('get with a version: the entity as after that many events', async () => {
    setup = setUp();
    const widget = widgetWithChanges(4);
    for (let version = 1; version <= 5; version++) {
      const loaded = await setup.repository.get(widget.id, { version });
      expect(loaded.version).toBe(version);
      expect(loaded.foo).toBe(`v${version - 1}`);
    }
    for (const beyond of [6, 100]) {
      await expect(setup.repository.get(widget.id, { version: beyond })).rejects.toBeInstanceOf(
        NotFoundError,
      );
    }
    for (const invalid of [0, -1, 1.5, NaN]) {
      const error = await rejectionOf(setup.repository.get(widget.id, { version: invalid }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('version');
    }
  });

  it('reads long streams page by page', async () => {
    setup = setUp({ pageSize: 4 });
    const widget = widgetWithChanges(9); // 10 events
    await setup.repository.get(widget.id); // waits for the writes
    setup.strategy.selects = [];
    const loaded = await setup.repository.get(widget.id);
    expect(loaded.foo).toBe('v9');
    expect(setup.strategy.selects).toEqual([4, 4, 4]);
    expect(setup.mutator.replayed).toBe(20);
  });

  it("reads in pages of its strategy's pageSize by default (1,000 in memory)", async () => {
    // Larger pages cost fewer statements: SQL strategies take 5,000 (docs/benchmarks.md, Round 2d: loads).
    for (const [strategyPageSize, selects] of [
      [undefined, [1000]],
      [4, [4, 4, 4]],
    ] as const) {
      setup = setUp(strategyPageSize === undefined ? {} : { strategyPageSize });
      const widget = widgetWithChanges(9); // 10 events
      await setup.repository.get(widget.id); // waits for the writes
      setup.strategy.selects = [];
      expect((await setup.repository.get(widget.id)).foo).toBe('v9');
      expect(setup.strategy.selects).toEqual(selects);
    }
  });

  it('checks its settings', () => {
    setup = setUp();
    const { eventStore, snapshots } = setUp({ snapshots: true });
    expect(
      () => new EventSourcedRepository({ eventStore, mutator: Widget.mutate, snapshotPeriod: 5 }),
    ).toThrow(/needs a snapshotStrategy/);
    for (const snapshotPeriod of [0, -2, 2.5]) {
      expect(
        () =>
          new EventSourcedRepository({
            eventStore,
            mutator: Widget.mutate,
            snapshotStrategy: snapshots!,
            snapshotPeriod,
          }),
      ).toThrow(ValidationError);
    }
    // Each named by its field when the repository is made, not at the first load (and not a TypeError).
    const made = (options: object) => {
      try {
        new EventSourcedRepository({ eventStore, mutator: Widget.mutate, ...options } as never);
      } catch (error) {
        return error instanceof ValidationError ? error.field : error;
      }
      return 'made';
    };
    expect(made({ pageSize: 0 })).toBe('pageSize');
    expect(made({ pageSize: 2.5, snapshotStrategy: snapshots! })).toBe('pageSize');
    expect(made({ snapshotStrategy: eventStore })).toBe('snapshotStrategy');
    expect(made({ eventStore: undefined })).toBe('eventStore');
    expect(made({ eventStore: eventStore.activeRecordStrategy })).toBe('eventStore');
    expect(made({ pageSize: 3, snapshotStrategy: snapshots! })).toBe('made');
  });

  it('takeSnapshot without a snapshot strategy is a ValidationError', async () => {
    setup = setUp();
    const widget = createWidget('x');
    const error = await rejectionOf(setup.repository.takeSnapshot(widget.id));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('snapshotStrategy');
  });

  describe.each([
    ['the snapshot and the events in one read', true],
    ['the snapshot, then the events', false],
  ])('with snapshots (%s)', (_, readsTogether) => {
    // Every test of this block runs both ways: the repository's answers do not depend on how it reads.
    const setUp = (options: SetUpOptions = {}) => setUpWith({ readsTogether, ...options });

    it('a load reads the snapshot and the events after it in one round trip, or in two', async () => {
      setup = setUp({ snapshots: true });
      const { repository, strategy, snapshotRecords, mutator } = setup;
      const widget = widgetWithChanges(9); // version 10
      await repository.takeSnapshot(widget.id);
      widget.foo = 'v10';
      strategy.selects = [];
      strategy.tails = [];
      snapshotRecords.selects = [];
      mutator.replayed = 0;
      expect((await repository.get(widget.id)).foo).toBe('v10');
      expect(mutator.replayed).toBe(1);
      if (readsTogether) {
        expect([strategy.tails, strategy.selects, snapshotRecords.selects]).toEqual([[1000], [], []]);
      } else {
        expect([strategy.tails, strategy.selects, snapshotRecords.selects]).toEqual([[], [1000], [1]]);
      }
    });

    it('no snapshot yet: the first page of events comes with the answer that there is none', async () => {
      setup = setUp({ snapshots: true, pageSize: 4 });
      const { repository, strategy, mutator } = setup;
      const widget = widgetWithChanges(9); // 10 events: pages of 4, 4, 2
      strategy.selects = [];
      strategy.tails = [];
      expect((await repository.get(widget.id)).foo).toBe('v9');
      expect(mutator.replayed).toBe(10);
      expect([strategy.tails, strategy.selects]).toEqual(readsTogether ? [[4], [4, 4]] : [[], [4, 4, 4]]);
    });

    it('a tail longer than a page: the pages after the first are read after its last event', async () => {
      setup = setUp({ snapshots: true, pageSize: 2 });
      const { repository, mutator } = setup;
      const widget = widgetWithChanges(2); // version 3
      await repository.takeSnapshot(widget.id);
      for (let i = 3; i <= 9; i++) widget.foo = `v${i}`; // version 10: 7 events after the snapshot
      for (const version of [undefined, 10, 9, 5, 4, 3, 2]) {
        mutator.replayed = 0;
        const loaded = await repository.get(widget.id, version === undefined ? {} : { version });
        const expected = version ?? 10;
        expect([version, loaded.version, loaded.foo]).toEqual([version, expected, `v${expected - 1}`]);
        expect([version, mutator.replayed]).toEqual([version, expected >= 3 ? expected - 3 : expected]);
      }
    });

    it('writes queued for the entity are stored before the load reads, and their failure surfaces', async () => {
      setup = setUp({ snapshots: true });
      const { repository, eventStore } = setup;
      const widget = widgetWithChanges(2); // version 3
      await repository.takeSnapshot(widget.id);
      const next = new Widget.AttributeChanged({
        originatorId: widget.id,
        originatorVersion: 3,
        name: 'foo',
        value: 'queued',
      });
      eventStore.enqueue(next);
      expect((await repository.get(widget.id)).foo).toBe('queued');
      // The same position again: the queued write fails, and the next load says so.
      eventStore.enqueue(next);
      await expect(repository.get(widget.id)).rejects.toBeInstanceOf(ConcurrencyError);
    });

    it('a load uses the snapshot and replays only the later events', async () => {
      setup = setUp({ snapshots: true });
      const { repository, mutator, snapshotRecords } = setup;
      const widget = widgetWithChanges(9); // version 10
      await repository.takeSnapshot(widget.id);
      const [stored] = await snapshotRecords.getItems(widget.id);
      expect(stored!.position).toBe(10);
      expect(stored!.topic).toBe('es.Snapshot');

      mutator.replayed = 0;
      const atSnapshot = await repository.get(widget.id);
      expect(mutator.replayed).toBe(0);
      expect(atSnapshot.toState()).toEqual(widget.toState());

      widget.foo = 'v10';
      widget.foo = 'v11';
      mutator.replayed = 0;
      const later = await repository.get(widget.id);
      expect(mutator.replayed).toBe(2);
      expect([later.foo, later.version]).toEqual(['v11', 12]);
      expect(later.createdOn).toEqual(widget.createdOn);
      expect(later.lastModifiedOn).toEqual(widget.lastModifiedOn);
    });

    it('a snapshot restores attributes of every kind', async () => {
      setup = setUp({ snapshots: true });
      const widget = createWidget('x');
      widget.changeAttribute('when', new Date(42));
      widget.changeAttribute('big', 2n ** 70n);
      widget.changeAttribute('nested', { list: [1, { $date: 'user data' }] });
      await setup.repository.takeSnapshot(widget.id);
      setup.mutator.replayed = 0;
      const loaded = await setup.repository.get(widget.id);
      expect(setup.mutator.replayed).toBe(0);
      expect(loaded.getAttribute('when')).toEqual(new Date(42));
      expect(loaded.getAttribute('big')).toBe(2n ** 70n);
      expect(loaded.getAttribute('nested')).toEqual({ list: [1, { $date: 'user data' }] });
    });

    it('get with a version below the newest snapshot uses an older snapshot, or replays', async () => {
      setup = setUp({ snapshots: true });
      const { repository, mutator } = setup;
      const widget = widgetWithChanges(4); // version 5
      await repository.takeSnapshot(widget.id);
      for (let i = 5; i <= 9; i++) widget.foo = `v${i}`; // version 10
      await repository.takeSnapshot(widget.id);
      widget.foo = 'v10'; // version 11

      const cases: [number, number][] = [
        // [version, events replayed]: snapshot 10 for 10 and 11, snapshot 5 for 5..9, none below 5.
        [11, 1],
        [10, 0],
        [9, 4],
        [7, 2],
        [5, 0],
        [4, 4],
        [1, 1],
      ];
      for (const [version, replayed] of cases) {
        mutator.replayed = 0;
        const loaded = await repository.get(widget.id, { version });
        expect([version, loaded.version, loaded.foo]).toEqual([version, version, `v${version - 1}`]);
        expect([version, mutator.replayed]).toEqual([version, replayed]);
      }
    });

    it('takeSnapshot of an earlier version', async () => {
      setup = setUp({ snapshots: true });
      const widget = widgetWithChanges(5);
      await setup.repository.takeSnapshot(widget.id, { version: 3 });
      expect((await setup.snapshotRecords.getItems(widget.id)).map((i) => i.position)).toEqual([3]);
      setup.mutator.replayed = 0;
      expect((await setup.repository.get(widget.id)).foo).toBe('v5');
      expect(setup.mutator.replayed).toBe(3);
    });

    it('snapshotPeriod: a load that replays that many events takes a snapshot', async () => {
      setup = setUp({ snapshots: true, snapshotPeriod: 5 });
      const { repository, mutator, snapshotRecords } = setup;
      const widget = widgetWithChanges(2); // 3 events
      await repository.get(widget.id);
      expect(await snapshotRecords.getItems(widget.id)).toEqual([]);

      for (let i = 3; i <= 6; i++) widget.foo = `v${i}`; // 7 events
      mutator.replayed = 0;
      await repository.get(widget.id);
      expect(mutator.replayed).toBe(7);
      expect((await snapshotRecords.getItems(widget.id)).map((i) => i.position)).toEqual([7]);

      mutator.replayed = 0;
      expect((await repository.get(widget.id)).foo).toBe('v6');
      expect(mutator.replayed).toBe(0);

      for (let i = 7; i <= 11; i++) widget.foo = `v${i}`; // 12 events: 5 after the snapshot
      mutator.replayed = 0;
      expect((await repository.get(widget.id)).foo).toBe('v11');
      expect(mutator.replayed).toBe(5);
      expect((await snapshotRecords.getItems(widget.id)).map((i) => i.position)).toEqual([7, 12]);
    });

    it('two snapshots of the same version do not conflict', async () => {
      setup = setUp({ snapshots: true });
      const widget = widgetWithChanges(2);
      await Promise.all([setup.repository.takeSnapshot(widget.id), setup.repository.takeSnapshot(widget.id)]);
      await setup.repository.takeSnapshot(widget.id);
      expect(await setup.snapshotRecords.getItems(widget.id)).toHaveLength(1);
    });

    it('a snapshot store failure other than a conflict is not swallowed', async () => {
      setup = setUp();
      class Broken extends InMemoryActiveRecordStrategy {
        protected override async insert(): Promise<void> {
          throw new StoreConnectionError('snapshot store down');
        }
      }
      const snapshotStore = new EventStore<Snapshot>({
        activeRecordStrategy: new Broken({ contiguous: false }),
        sequencedItemMapper: new SequencedItemMapper(),
      });
      const repository = new EventSourcedRepository<Widget>({
        eventStore: setup.eventStore,
        mutator: Widget.mutate,
        snapshotStrategy: new SnapshotStrategy({ snapshotStore }),
      });
      const widget = createWidget('x');
      await expect(repository.takeSnapshot(widget.id)).rejects.toBeInstanceOf(StoreConnectionError);
    });

    it('snapshots of a discarded entity: still not found', async () => {
      setup = setUp({ snapshots: true });
      const widget = createWidget('x');
      widget.discard();
      await setup.repository.takeSnapshot(widget.id);
      expect(await setup.repository.has(widget.id)).toBe(false);
      await expect(setup.repository.get(widget.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('takeSnapshot of an unknown entity is a NotFoundError', async () => {
      setup = setUp({ snapshots: true });
      await expect(setup.repository.takeSnapshot(uuid())).rejects.toBeInstanceOf(NotFoundError);
    });

    it('an entity class must be registered to be snapshotted, and a stored entity topic must resolve', async () => {
      setup = setUp({ snapshots: true });
      class Unregistered extends VersionedEntity {}
      const entity = Unregistered.mutate(
        undefined,
        new VersionedEntity.Created({ originatorId: uuid(), originatorVersion: 0 }),
      );
      await expect(setup.snapshots!.takeSnapshot(entity)).rejects.toBeInstanceOf(UnknownTopicError);
      const forged = new Snapshot({
        originatorId: entity.id,
        originatorVersion: 1,
        entityTopic: 'no.such.Entity',
        state: entity.toState(),
      });
      expect(() => setup.snapshots!.restore(forged)).toThrow(UnknownTopicError);
    });

    it('getSnapshot finds the newest at or below a version', async () => {
      setup = setUp({ snapshots: true });
      const widget = widgetWithChanges(2);
      const taken = await setup.snapshots!.takeSnapshot(widget);
      expect(taken.originatorVersion).toBe(3);
      expect(taken.entityTopic).toBe('test.Widget');
      expect(await setup.snapshots!.getSnapshot(widget.id, { lte: 2 })).toBeUndefined();
      expect(await setup.snapshots!.getSnapshot(widget.id, { lte: 3 })).toEqual(taken);
      expect(await setup.snapshots!.getSnapshot(widget.id)).toEqual(taken);
    });
  });

  describe('aggregates', () => {
    function orders() {
      const strategy = new CountingStrategy();
      const eventStore = new EventStore({
        activeRecordStrategy: strategy,
        sequencedItemMapper: new SequencedItemMapper(),
      });
      return {
        strategy,
        repository: new EventSourcedRepository<Order>({ eventStore, mutator: Order.mutate }),
      };
    }

    beforeEach(() => {
      setup = setUp();
    });

    it('save appends the pending events in one append, and publishes nothing', async () => {
      const { strategy, repository } = orders();
      const published: DomainEvent[] = [];
      const handler = (events: readonly DomainEvent[]): void => void published.push(...events);
      Order.publisher.subscribe(handler);
      try {
        const order = Order.create({ status: 'new' }, { id: uuid() });
        order.status = 'paid';
        order.status = 'shipped';
        await repository.save(order);
        expect(strategy.appends).toBe(1);
        expect(order.pendingEvents).toEqual([]);
        const loaded = await repository.get(order.id);
        expect(loaded).toBeInstanceOf(Order);
        expect([loaded.status, loaded.version]).toEqual(['shipped', 3]);
        expect(loaded.pendingEvents).toEqual([]);
        // Nothing pending: save does not append.
        await repository.save(loaded);
        expect(strategy.appends).toBe(1);
        expect(published).toEqual([]);
      } finally {
        Order.publisher.unsubscribe(handler);
      }
    });

    it('a conflicting save writes nothing and keeps the pending events', async () => {
      const { strategy, repository } = orders();
      const order = Order.create({ status: 'new' }, { id: uuid() });
      await repository.save(order);
      const first = await repository.get(order.id);
      const second = await repository.get(order.id);
      first.status = 'paid';
      await repository.save(first);
      second.status = 'cancelled';
      second.status = 'archived';
      second.status = 'deleted';
      const error = await rejectionOf(repository.save(second));
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(second.pendingEvents).toHaveLength(3);
      expect((await strategy.getItems(order.id)).map((i) => i.position)).toEqual([0, 1]);
      expect((await repository.get(order.id)).status).toBe('paid');
    });

    it('events recorded while a save is in flight stay pending', async () => {
      const { strategy, repository } = orders();
      const order = Order.create({ status: 'new' }, { id: uuid() });
      const saving = repository.save(order);
      order.status = 'paid';
      await saving;
      expect(order.pendingEvents).toHaveLength(1);
      expect((await strategy.getItems(order.id)).map((i) => i.position)).toEqual([0]);
      await repository.save(order);
      expect(order.pendingEvents).toEqual([]);
      expect((await repository.get(order.id)).status).toBe('paid');
    });
  });

  describe('an unversioned entity, sequenced by timestamp', () => {
    it('is stored, changed, loaded and discarded', async () => {
      setup = setUp();
      const strategy = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' });
      const eventStore = new EventStore({
        activeRecordStrategy: strategy,
        sequencedItemMapper: new SequencedItemMapper({ positionAttrName: 'timestamp' }),
      });
      const repository = new EventSourcedRepository<Note>({ eventStore, mutator: Note.mutate });
      const policy = new PersistencePolicy(eventStore, { eventType: EntityEvent, publisher: notePublisher });
      try {
        const note = createNote('hello');
        note.text = 'hello again';
        note.text = 'bye';
        const loaded = await repository.get(note.id);
        expect(loaded.text).toBe('bye');
        expect(loaded.toState()).toEqual(note.toState());
        const items = await strategy.getItems(note.id);
        expect(items).toHaveLength(3);
        expect(items.map((i) => i.position)).toEqual([...items.map((i) => i.position)].sort((a, b) => a - b));
        note.discard();
        expect(await repository.has(note.id)).toBe(false);
      } finally {
        await policy.close();
      }
    });

    it('loads from a snapshot and replays only the later events', async () => {
      setup = setUp();
      const mapper = new SequencedItemMapper({ positionAttrName: 'timestamp' });
      const strategy = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' });
      const eventStore = new EventStore({ activeRecordStrategy: strategy, sequencedItemMapper: mapper });
      const snapshotStore = new EventStore<Snapshot>({
        activeRecordStrategy: new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' }),
        sequencedItemMapper: mapper,
      });
      const mutator = countingMutator<Note>(Note.mutate);
      const repository = new EventSourcedRepository<Note>({
        eventStore,
        mutator,
        snapshotStrategy: new SnapshotStrategy({ snapshotStore }),
      });
      const policy = new PersistencePolicy(eventStore, { eventType: EntityEvent, publisher: notePublisher });
      try {
        const note = createNote('one');
        note.text = 'two';
        await repository.takeSnapshot(note.id);
        mutator.replayed = 0;
        expect((await repository.get(note.id)).text).toBe('two');
        expect(mutator.replayed).toBe(0);
        note.text = 'three';
        mutator.replayed = 0;
        const loaded = await repository.get(note.id);
        expect(loaded.text).toBe('three');
        expect(mutator.replayed).toBe(1);
        expect(loaded.lastModifiedOn).toEqual(note.lastModifiedOn);
      } finally {
        await policy.close();
      }
    });
  });

  describe('entity ids in upper case', () => {
    it('a read by the lower-case id waits for the writes queued under the upper-case id', async () => {
      setup = setUp();
      const gate = deferred();
      class Gated extends InMemoryActiveRecordStrategy {
        protected override async insert(items: readonly SequencedItem[]): Promise<void> {
          await gate.promise;
          return super.insert(items);
        }
      }
      const eventStore = new EventStore({
        activeRecordStrategy: new Gated(),
        sequencedItemMapper: new SequencedItemMapper(),
      });
      const repository = new EventSourcedRepository<Widget>({ eventStore, mutator: Widget.mutate });
      const policy = new PersistencePolicy(eventStore, {
        eventType: VersionedEntityEvent,
        publisher: widgetPublisher,
      });
      try {
        const id = uuid();
        const widget = createWidget('a', id.toUpperCase());
        widget.foo = 'b';
        const read = repository.get(id);
        gate.resolve();
        expect((await read).foo).toBe('b');
        expect((await repository.get(id.toUpperCase())).foo).toBe('b');
      } finally {
        await policy.close();
      }
    });
  });
});
