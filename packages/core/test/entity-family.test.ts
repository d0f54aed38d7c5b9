import {
  DuplicateTopicError,
  EventPublisher,
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  NotFoundError,
  SequencedItemMapper,
  TimestampedVersionedEntity,
  TopicRegistry,
  ValidationError,
  registerEntity,
  registerTopic,
  withCausation,
} from '../src/index.js';
import { recorder, uuid } from './fixtures.js';

const publisher = new EventPublisher();

class Ticket extends TimestampedVersionedEntity<{ title: string; seats: number }> {
  static override publisher = publisher;
  get title(): string {
    return this.getAttribute('title');
  }
  set title(value: string) {
    this.changeAttribute('title', value);
  }
}
class Badge extends TimestampedVersionedEntity<{ holder: string }> {
  static override publisher = publisher;
}

function wiring() {
  const topics = new TopicRegistry();
  registerEntity('test.Ticket', Ticket, topics);
  registerEntity('test.Badge', Badge, topics);
  const eventStore = new EventStore({
    activeRecordStrategy: new InMemoryActiveRecordStrategy(),
    sequencedItemMapper: new SequencedItemMapper({ topics }),
  });
  return { topics, eventStore };
}

describe('registerEntity', () => {
  it('registers the class and a family of event classes of its own under one prefix', () => {
    const { topics } = wiring();
    expect(Ticket.Created).not.toBe(TimestampedVersionedEntity.Created);
    expect(new Ticket.Created({ originatorId: uuid(), originatorVersion: 0 })).toBeInstanceOf(
      TimestampedVersionedEntity.Created,
    );
    expect(
      [Ticket, Ticket.Created, Ticket.AttributeChanged, Ticket.Discarded].map((c) => topics.topicOf(c)),
    ).toEqual([
      'test.Ticket',
      'test.Ticket.Created',
      'test.Ticket.AttributeChanged',
      'test.Ticket.Discarded',
    ]);
    expect(Ticket.Created.name).toBe('Created');
  });

  it('a second registration of a topic to another class is a DuplicateTopicError', () => {
    const { topics } = wiring();
    expect(() => registerEntity('test.Ticket', Badge, topics)).toThrow(DuplicateTopicError);
    expect(() => registerTopic('x', Ticket, new TopicRegistry().register('x', Badge))).toThrow(
      DuplicateTopicError,
    );
  });
});

describe('Entity.create and typed repositories', () => {
  it('creates, publishes and stores an entity; a repository typed by its class reads it back', async () => {
    const { eventStore } = wiring();
    const log = recorder(publisher);
    try {
      const ticket = Ticket.create({ title: 'Gig', seats: 2 });
      ticket.title = 'Concert';
      expect(log.batches.flat()).toHaveLength(2);
      await eventStore.append(log.batches.flat() as never);
      const tickets = new EventSourcedRepository({ eventStore, entity: Ticket });
      const copy = await tickets.get(ticket.id);
      expect([copy.title, copy.getAttribute('seats'), copy.version]).toEqual(['Concert', 2, 2]);
    } finally {
      log.stop();
    }
  });

  it("a repository of one class does not rebuild another class's entity", async () => {
    const { eventStore } = wiring();
    const own = new EventPublisher();
    const log = recorder(own);
    const badge = Badge.create({ holder: 'Ada' }, { publisher: own });
    await eventStore.append(log.batches.flat() as never);
    const tickets = new EventSourcedRepository({ eventStore, entity: Ticket });
    await expect(tickets.has(badge.id)).resolves.toBe(false);
    await expect(tickets.get(badge.id)).rejects.toThrow(NotFoundError);
    await expect(tickets.get(badge.id)).rejects.toThrow(/not a Ticket/);
  });

  it('an entity created with a publisher publishes its later events there too', () => {
    const own = new EventPublisher();
    const mine = recorder(own);
    const global = recorder(publisher);
    try {
      const ticket = Ticket.create({ title: 'a' }, { publisher: own });
      ticket.title = 'b';
      ticket.discard();
      expect(mine.batches.flat()).toHaveLength(3);
      expect(global.batches).toHaveLength(0);
    } finally {
      global.stop();
    }
  });

  it('events carry an event id, and the causation context when there is one', () => {
    const own = new EventPublisher();
    const log = recorder(own);
    const ticket = withCausation({ correlationId: 'c1', causationId: 'k1' }, () =>
      Ticket.create({ title: 'a' }, { publisher: own }),
    );
    ticket.title = 'b';
    const [created, changed] = log.batches.flat() as {
      eventId: string;
      correlationId?: string;
      causationId?: string;
    }[];
    expect(created).toMatchObject({ correlationId: 'c1', causationId: 'k1' });
    expect(created!.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(changed!.eventId).not.toBe(created!.eventId);
    expect(changed!.correlationId).toBeUndefined();
  });

  it('a repository refuses an id that is not a string with a ValidationError', async () => {
    const { eventStore } = wiring();
    const tickets = new EventSourcedRepository({ eventStore, entity: Ticket });
    await expect(tickets.get(undefined as unknown as string)).rejects.toThrow(ValidationError);
  });
});
