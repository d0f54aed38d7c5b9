import {
  DomainEvent,
  EventPublisher,
  EventStore,
  InMemoryActiveRecordStrategy,
  SequencedItemMapper,
  TopicRegistry,
  VersionedEntityEvent,
  withPayload,
} from '../src/index.js';
import { uuid } from './fixtures.js';

// Four ways TypeScript users declare an event's fields; each must carry the value it was given.
class Declared extends VersionedEntityEvent {
  declare readonly amount: number;
}
class ClassField extends VersionedEntityEvent {
  // Under ES2022 class-field semantics this redefines `amount` after the base constructor ran.
  readonly amount!: number;
}
class ParameterProperty extends DomainEvent {
  constructor(readonly amount: number) {
    super({});
  }
}
class Initialised extends VersionedEntityEvent {
  readonly currency: string = 'EUR';
  declare readonly amount: number;
}
class Typed extends withPayload<{ amount: number }>()(VersionedEntityEvent) {}

describe('declaring event fields', () => {
  const fields = { originatorId: uuid(), originatorVersion: 1, amount: 5 };

  it.each([
    ['declare readonly', () => new Declared(fields)],
    ['a class field (readonly amount!: number)', () => new ClassField(fields)],
    ['a typed payload (withPayload)', () => new Typed(fields)],
    ['a parameter property', () => new ParameterProperty(5)],
  ])('%s: the event carries its value, also after being recorded', (_, make) => {
    const event = make() as DomainEvent & { amount: number };
    expect(event.amount).toBe(5);
    expect(Object.keys(event)).toContain('amount');
    new EventPublisher().publish(event);
    expect(Object.isFrozen(event)).toBe(true);
    expect(event.amount).toBe(5);
    expect(() => {
      (event as { amount: number }).amount = 6;
    }).toThrow(TypeError);
  });

  it('a class field with an initialiser keeps its default, and the given fields their values', () => {
    const event = new Initialised(fields);
    expect([event.currency, event.amount]).toEqual(['EUR', 5]);
  });

  it('class-field events are stored and read back with their values', async () => {
    const topics = new TopicRegistry().register('test.ClassField', ClassField);
    const store = new EventStore({
      activeRecordStrategy: new InMemoryActiveRecordStrategy(),
      sequencedItemMapper: new SequencedItemMapper({ topics }),
    });
    const event = new ClassField({ ...fields, originatorVersion: 0 });
    await store.append(event);
    const [back] = await store.getDomainEvents(fields.originatorId);
    expect(back).toBeInstanceOf(ClassField);
    expect((back as ClassField).amount).toBe(5);
  });
});
