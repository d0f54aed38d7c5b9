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
