import { setFlagsFromString } from 'node:v8';
import {
  DomainEvent,
  DuplicateTopicError,
  TopicRegistry,
  UnknownTopicError,
  ValidationError,
  defaultTopics,
  registerTopic,
} from '../src/index.js';

class Alpha extends DomainEvent {}
class Beta extends DomainEvent {}

describe('TopicRegistry', () => {
  it('maps a topic to its class and back', () => {
    const topics = new TopicRegistry().register('t.Alpha', Alpha).register('t.Beta', Beta);
    expect(topics.resolve('t.Alpha')).toBe(Alpha);
    expect(topics.resolve('t.Beta')).toBe(Beta);
    expect(topics.topicOf(Alpha)).toBe('t.Alpha');
    expect(topics.has('t.Alpha')).toBe(true);
    expect(topics.has('t.Gamma')).toBe(false);
  });

  it('registering the same pair twice is harmless', () => {
    const topics = new TopicRegistry().register('t.Alpha', Alpha);
    expect(() => topics.register('t.Alpha', Alpha)).not.toThrow();
    expect(topics.resolve('t.Alpha')).toBe(Alpha);
  });

  it('refuses a topic already taken by another class', () => {
    const topics = new TopicRegistry().register('t.Alpha', Alpha);
    let error: unknown;
    try {
      topics.register('t.Alpha', Beta);
    } catch (e) {
      error = e;
    }
    // A wiring mistake, not a stored topic that is unknown: its own error type.
    expect(error).toBeInstanceOf(DuplicateTopicError);
    expect(error).not.toBeInstanceOf(UnknownTopicError);
    expect((error as DuplicateTopicError).topic).toBe('t.Alpha');
    expect((error as Error).message).toContain('Alpha');
    expect(topics.resolve('t.Alpha')).toBe(Alpha);
    expect(() => topics.topicOf(Beta)).toThrow(UnknownTopicError);
  });

  it('refuses a class already registered under another topic', () => {
    const topics = new TopicRegistry().register('t.Alpha', Alpha);
    expect(() => topics.register('t.Other', Alpha)).toThrow(/already registered as "t.Alpha"/);
    expect(topics.has('t.Other')).toBe(false);
    expect(topics.topicOf(Alpha)).toBe('t.Alpha');
  });

  it('refuses an empty topic', () => {
    expect(() => new TopicRegistry().register('', Alpha)).toThrow(ValidationError);
    expect(() => new TopicRegistry().register(undefined as unknown as string, Alpha)).toThrow(
      ValidationError,
    );
  });

  it('an unknown topic or unregistered class is an UnknownTopicError', () => {
    const topics = new TopicRegistry();
    expect(() => topics.resolve('nope')).toThrow(UnknownTopicError);
    try {
      topics.resolve('nope');
    } catch (e) {
      expect((e as UnknownTopicError).topic).toBe('nope');
      expect((e as Error).message).toContain('"nope"');
    }
    expect(() => topics.topicOf(Alpha)).toThrow(/class Alpha has no topic/);
  });

  it('registerTopic returns the class, in the default registry unless told otherwise', () => {
    class Gamma extends DomainEvent {}
    expect(registerTopic('topics.test.Gamma', Gamma)).toBe(Gamma);
    expect(defaultTopics.resolve('topics.test.Gamma')).toBe(Gamma);
    const own = new TopicRegistry();
    class Delta extends DomainEvent {}
    registerTopic('topics.test.Delta', Delta, own);
    expect(own.resolve('topics.test.Delta')).toBe(Delta);
    expect(defaultTopics.has('topics.test.Delta')).toBe(false);
  });

  it('the built-in event classes are registered', () => {
    expect(defaultTopics.has('es.VersionedEntity.Created')).toBe(true);
    expect(defaultTopics.has('es.DomainEntity.AttributeChanged')).toBe(true);
    expect(defaultTopics.has('es.Snapshot')).toBe(true);
  });
});

describe('TopicRegistry.resolveStored (the topic of a stored item)', () => {
  it('resolves an exact topic, then a family member with its type, then refuses an unknown one', () => {
    const topics = new TopicRegistry().register('t.Alpha', Alpha).registerFamily('t.Fam', Beta);
    expect(topics.resolveStored('t.Alpha')).toMatchObject({ cls: Alpha, type: undefined });
    // The same topic again, as a new string (each database row gives one): the same answer.
    expect(topics.resolveStored(['t.', 'Alpha'].join(''))).toMatchObject({ cls: Alpha, type: undefined });
    expect(topics.resolveStored('t.Fam.Opened')).toMatchObject({ cls: Beta, type: 'Opened' });
    expect(topics.resolveStored('t.Fam.Closed')).toMatchObject({ cls: Beta, type: 'Closed' });
    expect(() => topics.resolveStored('t.Gamma')).toThrow(UnknownTopicError);
    // An unknown topic is never remembered: registered later, it resolves.
    class Gamma extends DomainEvent {}
    topics.register('t.Gamma', Gamma);
    expect(topics.resolveStored('t.Gamma').cls).toBe(Gamma);
  });

  it('a registration after a lookup is seen by the next lookup of the same topic', () => {
    const topics = new TopicRegistry().registerFamily('t.Fam', Beta);
    expect(topics.resolveStored('t.Fam.Special')).toMatchObject({ cls: Beta, type: 'Special' });
    // An exact registration takes precedence over the family, as `resolve` and the mapper always did.
    topics.register('t.Fam.Special', Alpha);
    expect(topics.resolveStored('t.Fam.Special')).toMatchObject({ cls: Alpha, type: undefined });
  });
});

describe('registration keeps a class quick to construct', () => {
  // V8's own view of an object: natives syntax, enabled for the functions compiled from here on.
  setFlagsFromString('--allow-natives-syntax');
  const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

  /** A class as esbuild's keepNames (which tsx always sets) leaves it: its `name` redefined. */
  function renamed(): typeof DomainEvent {
    const cls = class Renamed extends DomainEvent {};
    Object.defineProperty(cls, 'name', { value: 'Renamed', configurable: true });
    return cls;
  }

  it('a class whose name was redefined gets fast properties back (V8 slows `new` of it otherwise)', () => {
    // What the registry undoes: the redefinition makes the class a dictionary-mode object.
    expect(hasFastProperties(renamed())).toBe(false);
    const event = renamed();
    new TopicRegistry().register('t.Renamed', event);
    expect(hasFastProperties(event)).toBe(true);
    const family = renamed();
    new TopicRegistry().registerFamily('t.RenamedFamily', family);
    expect(hasFastProperties(family)).toBe(true);
    // The class is unchanged: its name, its events.
    expect(event.name).toBe('Renamed');
    expect(new event({ n: 1 })).toMatchObject({ n: 1 });
  });

  it('functions that cannot be extended register as before', () => {
    const arrow = (() => undefined) as unknown as typeof DomainEvent;
    const bound = DomainEvent.bind(null) as unknown as typeof DomainEvent;
    function* generator(): Generator<never> {}
    const topics = new TopicRegistry()
      .register('t.Arrow', arrow)
      .register('t.Bound', bound)
      .register('t.Generator', generator);
    expect(topics.resolve('t.Arrow')).toBe(arrow);
    expect(topics.resolve('t.Bound')).toBe(bound);
    expect(topics.resolve('t.Generator')).toBe(generator);
  });
});
