import {
  AggregateRoot,
  DomainEntity,
  EntityIsDiscardedError,
  EventPublisher,
  OriginatorError,
  TimestampedEntity,
  ValidationError,
  VersionedEntity,
  VersionedEntityEvent,
  type DomainEvent,
} from '../src/index.js';
import { mutateEntity } from '../src/backend.js';
import {
  Note,
  Order,
  Widget,
  createNote,
  createWidget,
  notePublisher,
  recorder,
  uuid,
  widgetPublisher,
} from './fixtures.js';

describe('VersionedEntity (a timestamped versioned Widget)', () => {
  it('is created by the mutator from its Created event', () => {
    const id = uuid();
    const created = new Widget.Created({ originatorId: id, originatorVersion: 0, foo: 'bar' });
    const widget = Widget.mutate(undefined, created) as Widget;
    expect(widget).toBeInstanceOf(Widget);
    expect(widget.id).toBe(id);
    expect(widget.version).toBe(1);
    expect(widget.foo).toBe('bar');
    expect(widget.isDiscarded).toBe(false);
    expect(widget.createdOn).toEqual(new Date(created.timestamp));
    expect(widget.lastModifiedOn).toEqual(widget.createdOn);
  });

  it('an attribute change records a published event, increments the version, moves lastModifiedOn', () => {
    const log = recorder(widgetPublisher);
    try {
      const widget = createWidget('a');
      const createdOn = widget.createdOn!;
      widget.foo = 'b';
      widget.foo = 'c';
      expect(widget.foo).toBe('c');
      expect(widget.version).toBe(3);
      const events = log.batches.flat() as DomainEvent[];
      expect(events.map((e) => e.constructor)).toEqual([
        Widget.Created,
        Widget.AttributeChanged,
        Widget.AttributeChanged,
      ]);
      expect(events.map((e) => (e as VersionedEntityEvent).originatorVersion)).toEqual([0, 1, 2]);
      expect(events.every((e) => (e as VersionedEntityEvent).originatorId === widget.id)).toBe(true);
      expect(events[2]).toMatchObject({ name: 'foo', value: 'c' });
      expect(widget.createdOn).toEqual(createdOn);
      expect(widget.lastModifiedOn!.getTime()).toBe(Math.floor(events[2]!.timestamp));
      expect(events[2]!.timestamp).toBeGreaterThan(events[0]!.timestamp);
    } finally {
      log.stop();
    }
  });

  it('discard: afterwards the entity is unusable', () => {
    const widget = createWidget('a');
    widget.discard();
    expect(widget.isDiscarded).toBe(true);
    expect(widget.version).toBe(2);
    expect(() => widget.foo).toThrow(EntityIsDiscardedError);
    expect(() => {
      widget.foo = 'b';
    }).toThrow(EntityIsDiscardedError);
    expect(() => widget.discard()).toThrow(EntityIsDiscardedError);
    expect(() => widget.assertNotDiscarded()).toThrow(/is discarded/);
    expect(widget.version).toBe(2);
  });

  it('refuses an event of another entity', () => {
    const widget = createWidget('a');
    const foreign = new Widget.AttributeChanged({
      originatorId: uuid(),
      originatorVersion: 1,
      name: 'foo',
      value: 'x',
    });
    expect(() => widget.apply(foreign)).toThrow(OriginatorError);
    expect(widget.foo).toBe('a');
    expect(widget.version).toBe(1);
  });

  it('refuses an event whose version does not follow the entity', () => {
    const widget = createWidget('a');
    for (const version of [0, 2, undefined]) {
      const event = new Widget.AttributeChanged({
        originatorId: widget.id,
        originatorVersion: version,
        name: 'foo',
        value: 'x',
      });
      expect(() => widget.apply(event)).toThrow(OriginatorError);
    }
    expect(widget.foo).toBe('a');
    const next = new Widget.AttributeChanged({
      originatorId: widget.id,
      originatorVersion: 1,
      name: 'foo',
      value: 'x',
    });
    widget.apply(next);
    expect([widget.foo, widget.version]).toEqual(['x', 2]);
  });

  it('the first event must be Created', () => {
    const event = new Widget.AttributeChanged({
      originatorId: uuid(),
      originatorVersion: 0,
      name: 'foo',
      value: 'x',
    });
    expect(() => Widget.mutate(undefined, event)).toThrow(OriginatorError);
    expect(() => Widget.mutate(undefined, event)).toThrow(/first event must be Created/);
  });

  it('a Created event cannot be applied to an existing entity', () => {
    const widget = createWidget('a');
    const again = new Widget.Created({ originatorId: widget.id, originatorVersion: 0, foo: 'z' });
    expect(() => Widget.mutate(widget, again)).toThrow(OriginatorError);
    expect(() => widget.apply(again)).toThrow(OriginatorError);
    const atVersion = new Widget.Created({ originatorId: widget.id, originatorVersion: 1, foo: 'z' });
    expect(() => widget.apply(atVersion)).toThrow(/already exists/);
    expect(widget.foo).toBe('a');
  });

  it('a Created event must be at version 0', () => {
    const event = new Widget.Created({ originatorId: uuid(), originatorVersion: 1, foo: 'x' });
    expect(() => Widget.mutate(undefined, event)).toThrow(OriginatorError);
  });

  it('an event with no role of its own counts as a modification', () => {
    class Pinged extends VersionedEntityEvent {}
    const widget = createWidget('a');
    const ping = new Pinged({ originatorId: widget.id, originatorVersion: 1 });
    expect(Widget.mutate(widget, ping)).toBe(widget);
    expect(widget.version).toBe(2);
    expect(widget.lastModifiedOn!.getTime()).toBe(Math.floor(ping.timestamp));
    expect(widget.foo).toBe('a');
  });

  it('the entity id must be a UUID', () => {
    expect(() => new Widget('not-a-uuid')).toThrow(ValidationError);
    try {
      new Widget('nope');
    } catch (e) {
      expect((e as ValidationError).field).toBe('id');
    }
    const created = new Widget.Created({ originatorId: 'nope', originatorVersion: 0, foo: '' });
    expect(() => Widget.mutate(undefined, created)).toThrow(ValidationError);
    expect(new Widget(uuid().toUpperCase()).version).toBe(0);
  });

  it('toState and fromState round-trip', () => {
    const widget = createWidget('a');
    widget.foo = 'b';
    widget.changeAttribute('when', new Date(5));
    const state = widget.toState();
    expect(state).toEqual({
      id: widget.id,
      version: 3,
      isDiscarded: false,
      createdOn: expect.any(Number),
      lastModifiedOn: expect.any(Number),
      attributes: { foo: 'b', when: new Date(5) },
    });
    const restored = Widget.fromState(state);
    expect(restored).toBeInstanceOf(Widget);
    expect(restored.toState()).toEqual(state);
    expect(restored.foo).toBe('b');
    expect(restored.createdOn).toEqual(widget.createdOn);
    expect(restored.lastModifiedOn).toEqual(widget.lastModifiedOn);
    // The restored entity carries on from the restored version.
    restored.foo = 'c';
    expect(restored.version).toBe(4);
    // State is a copy: changing the restored entity leaves the original alone.
    expect(widget.foo).toBe('b');
  });

  it('a discarded state restores a discarded entity', () => {
    const widget = createWidget('a');
    widget.discard();
    const restored = Widget.fromState(widget.toState());
    expect(restored.isDiscarded).toBe(true);
    expect(() => restored.foo).toThrow(EntityIsDiscardedError);
  });

  it('mutate is bound to the class it was read from', () => {
    class Gadget extends VersionedEntity {}
    const created = new VersionedEntity.Created({ originatorId: uuid(), originatorVersion: 0 });
    expect(Gadget.mutate(undefined, created)).toBeInstanceOf(Gadget);
    expect(mutateEntity(VersionedEntity, undefined, created)).not.toBeInstanceOf(Gadget);
  });
});

describe('TimestampedEntity (an unversioned Note)', () => {
  it('has version 0 and events without versions', () => {
    const log = recorder(notePublisher);
    try {
      const note = createNote('hello');
      note.text = 'bye';
      expect(note.version).toBe(0);
      expect(note.text).toBe('bye');
      const events = log.batches.flat() as DomainEvent[];
      expect(events).toHaveLength(2);
      expect(events.every((e) => !('originatorVersion' in e))).toBe(true);
      expect(note.createdOn).toEqual(new Date(events[0]!.timestamp));
      expect(note.lastModifiedOn).toEqual(new Date(events[1]!.timestamp));
      expect(note.lastModifiedOn!.getTime()).toBeGreaterThanOrEqual(note.createdOn!.getTime());
    } finally {
      log.stop();
    }
  });

  it('refuses an event of another entity, and a second Created', () => {
    const note = createNote('x');
    expect(() =>
      note.apply(new Note.AttributeChanged({ originatorId: uuid(), name: 'text', value: 'y' })),
    ).toThrow(OriginatorError);
    expect(() => note.apply(new Note.Created({ originatorId: note.id }))).toThrow(/already exists/);
    expect(note.text).toBe('x');
  });

  it('discards, and round-trips its state', () => {
    const note = createNote('x');
    const restored = Note.fromState(note.toState());
    expect(restored.text).toBe('x');
    expect(restored.createdOn).toEqual(note.createdOn);
    note.discard();
    expect(() => note.text).toThrow(EntityIsDiscardedError);
    expect(Note.fromState(note.toState()).isDiscarded).toBe(true);
  });

  it('a new entity has no timestamps until its Created event is applied', () => {
    const fresh = new TimestampedEntity(uuid());
    expect(fresh.createdOn).toBeUndefined();
    expect(fresh.lastModifiedOn).toBeUndefined();
    expect(new Widget(uuid()).createdOn).toBeUndefined();
    expect(new Widget(uuid()).lastModifiedOn).toBeUndefined();
  });
});

describe('DomainEntity', () => {
  it('a class may publish to a publisher of its own', () => {
    const publisher = new EventPublisher();
    class Plain extends DomainEntity {
      static override publisher = publisher;
    }
    const log = recorder(publisher);
    const entity = Plain.mutate(
      undefined,
      new Plain.Created({ originatorId: uuid(), colour: 'red' }),
    ) as Plain;
    entity.changeAttribute('colour', 'blue');
    expect(entity.getAttribute('colour')).toBe('blue');
    expect(log.batches).toHaveLength(1);
    expect((log.batches[0]![0] as { value: unknown }).value).toBe('blue');
  });
});

describe('AggregateRoot', () => {
  it('create() records a pending Created event and publishes nothing', () => {
    const log = recorder(Order.publisher);
    try {
      const id = uuid();
      const order = Order.create({ status: 'new' }, { id });
      expect(order).toBeInstanceOf(Order);
      expect(order).toBeInstanceOf(AggregateRoot);
      expect(order.id).toBe(id);
      expect(order.status).toBe('new');
      expect(order.version).toBe(1);
      expect(order.pendingEvents).toHaveLength(1);
      expect(order.pendingEvents[0]).toBeInstanceOf(Order.Created);
      order.status = 'paid';
      order.status = 'shipped';
      expect(order.version).toBe(3);
      expect(order.pendingEvents.map((e) => (e as VersionedEntityEvent).originatorVersion)).toEqual([
        0, 1, 2,
      ]);
      expect(log.batches).toEqual([]);
      const collected = order.collectPendingEvents();
      expect(collected).toHaveLength(3);
      expect(order.pendingEvents).toHaveLength(0);
    } finally {
      log.stop();
    }
  });

  it('create() without fields, and with an id that is not a UUID', () => {
    expect(Order.create({}, { id: uuid() }).pendingEvents).toHaveLength(1);
    expect(() => Order.create({}, { id: 'x' })).toThrow(ValidationError);
  });
});

describe('an attribute named "__proto__"', () => {
  it('is kept as data in the attributes', () => {
    const widget = createWidget('a');
    widget.changeAttribute('__proto__', 'plain');
    expect(widget.getAttribute('__proto__')).toBe('plain');
    expect(widget.toState().attributes['__proto__']).toBe('plain');
  });
});
