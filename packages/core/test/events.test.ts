import {
  DomainEvent,
  EntityEvent,
  EventPublisher,
  VersionedEntityEvent,
  defaultPublisher,
  publish,
  subscribe,
  unsubscribe,
  ValidationError,
  VersionedEntity,
} from '../src/index.js';
import { createTimestamp, roleOf } from '../src/backend.js';
import { joinFields } from '../src/events.js';

class Happened extends DomainEvent {
  declare readonly what: string;
}

describe('DomainEvent', () => {
  it('carries its fields and a timestamp, and is frozen once recorded (here: published)', () => {
    const event = new Happened({ what: 'x' });
    expect(event.what).toBe('x');
    expect(typeof event.timestamp).toBe('number');
    expect(Object.isFrozen(event)).toBe(false);
    new EventPublisher().publish(event);
    expect(Object.isFrozen(event)).toBe(true);
    expect(() => {
      (event as { what: string }).what = 'y';
    }).toThrow(TypeError);
    expect(event.what).toBe('x');
  });

  it('keeps a given timestamp, and shows it as a Date', () => {
    const event = new Happened({ what: 'x', timestamp: 1_700_000_000_123.456 });
    expect(event.timestamp).toBe(1_700_000_000_123.456);
    expect(event.occurredOn).toEqual(new Date(1_700_000_000_123));
  });

  it('gets a timestamp close to now', () => {
    const before = Date.now();
    const event = new DomainEvent();
    const after = Date.now();
    expect(event.timestamp).toBeGreaterThanOrEqual(before - 1);
    expect(event.timestamp).toBeLessThanOrEqual(after + 1);
  });

  it('timestamps are strictly increasing, even within one millisecond', () => {
    const stamps = Array.from({ length: 5000 }, () => new DomainEvent().timestamp);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! > stamps[i - 1]!).toBe(true);
    expect(new Set(stamps).size).toBe(stamps.length);
    const a = createTimestamp();
    const b = createTimestamp();
    expect(b).toBeGreaterThan(a);
  });

  it('follows the wall clock when it moves away from the monotonic clock, and never goes back', () => {
    // Whole seconds ahead of the real clock, so that the earlier tests' timestamps are behind it.
    const base = (Math.floor(Date.now() / 1000) + 3600) * 1000;
    // A fresh copy of the module, so that the timestamps it leaves an hour ahead stay out of other tests.
    let createTimestamp: () => number = () => 0;
    jest.isolateModules(() => {
      ({ createTimestamp } = jest.requireActual<typeof import('../src/events.js')>('../src/events.js'));
    });
    jest.useFakeTimers({ now: base });
    try {
      const first = createTimestamp();
      expect(Math.floor(first)).toBe(base);
      // NTP corrects the wall clock by five seconds; performance.now() does not move.
      jest.setSystemTime(base + 5000);
      const corrected = createTimestamp();
      expect(Math.floor(corrected)).toBe(base + 5000);
      // The wall clock is set back: timestamps still increase, by a microsecond each.
      jest.setSystemTime(base + 1000);
      expect(createTimestamp()).toBe(Math.round((corrected + 0.001) * 1000) / 1000);
      expect(createTimestamp()).toBe(Math.round((corrected + 0.002) * 1000) / 1000);
    } finally {
      jest.useRealTimers();
    }
  });

  it('after a burst faster than one a microsecond (which runs ahead), the next timestamp is the wall clock again', async () => {
    const stamps = Array.from({ length: 50_000 }, () => createTimestamp());
    while (Date.now() <= stamps.at(-1)! + 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const before = Date.now();
    const next = createTimestamp();
    expect(next).toBeGreaterThanOrEqual(before);
    expect(next).toBeLessThan(Date.now() + 1);
  });

  it('the event classes of entities form a hierarchy', () => {
    const event = new VersionedEntityEvent({ originatorId: 'x', originatorVersion: 3 });
    expect(event).toBeInstanceOf(EntityEvent);
    expect(event).toBeInstanceOf(DomainEvent);
    expect(event.originatorVersion).toBe(3);
  });

  it('roleOf reads the role of the event class', () => {
    expect(roleOf(new VersionedEntity.Created({ originatorId: 'x', originatorVersion: 0 }))).toBe('created');
    expect(roleOf(new VersionedEntity.AttributeChanged({ originatorId: 'x', originatorVersion: 1 }))).toBe(
      'attributeChanged',
    );
    expect(roleOf(new VersionedEntity.Discarded({ originatorId: 'x', originatorVersion: 1 }))).toBe(
      'discarded',
    );
    expect(roleOf(new Happened({ what: 'x' }))).toBe('other');
  });
});

describe('EventPublisher', () => {
  it('delivers published events to every subscriber, in order, as a list', () => {
    const publisher = new EventPublisher();
    const seen: string[] = [];
    publisher.subscribe((events) => seen.push(`a:${events.map((e) => (e as Happened).what).join(',')}`));
    publisher.subscribe((events) => seen.push(`b:${events.length}`));
    publisher.publish(new Happened({ what: '1' }));
    publisher.publish([new Happened({ what: '2' }), new Happened({ what: '3' })]);
    expect(seen).toEqual(['a:1', 'b:1', 'a:2,3', 'b:2']);
  });

  it('a predicate filters what a subscriber receives', () => {
    const publisher = new EventPublisher();
    const received: DomainEvent[] = [];
    const handler = (events: readonly DomainEvent[]): void => void received.push(...events);
    const onlyHappened = (events: readonly DomainEvent[]): boolean =>
      events.every((e) => e instanceof Happened);
    publisher.subscribe(handler, onlyHappened);
    const wanted = new Happened({ what: 'x' });
    publisher.publish(wanted);
    publisher.publish(new DomainEvent());
    publisher.publish([new Happened({ what: 'y' }), new DomainEvent()]);
    expect(received).toEqual([wanted]);
  });

  it('unsubscribe stops delivery; it needs the same handler and predicate', () => {
    const publisher = new EventPublisher();
    const received: DomainEvent[] = [];
    const handler = (events: readonly DomainEvent[]): void => void received.push(...events);
    const predicate = (): boolean => true;
    publisher.subscribe(handler, predicate);
    expect(publisher.isSubscribed(handler)).toBe(true);
    publisher.unsubscribe(handler); // without the predicate: a different subscription
    expect(publisher.isSubscribed(handler)).toBe(true);
    publisher.publish(new DomainEvent());
    expect(received).toHaveLength(1);
    publisher.unsubscribe(handler, predicate);
    expect(publisher.isSubscribed(handler)).toBe(false);
    publisher.publish(new DomainEvent());
    expect(received).toHaveLength(1);
  });

  it('a handler that unsubscribes during delivery does not disturb that delivery', () => {
    const publisher = new EventPublisher();
    const calls: string[] = [];
    const first = (): void => {
      calls.push('first');
      publisher.unsubscribe(first);
      publisher.unsubscribe(second);
    };
    const second = (): void => void calls.push('second');
    publisher.subscribe(first);
    publisher.subscribe(second);
    publisher.publish(new DomainEvent());
    publisher.publish(new DomainEvent());
    expect(calls).toEqual(['first', 'second']);
  });

  it('publish/subscribe/unsubscribe use the process-wide publisher', () => {
    const received: DomainEvent[] = [];
    const handler = (events: readonly DomainEvent[]): void => void received.push(...events);
    subscribe(handler);
    try {
      expect(defaultPublisher.isSubscribed(handler)).toBe(true);
      const event = new DomainEvent();
      publish(event);
      publish([event, event]);
      expect(received).toEqual([event, event, event]);
    } finally {
      unsubscribe(handler);
    }
    expect(defaultPublisher.isSubscribed(handler)).toBe(false);
    publish(new DomainEvent());
    expect(received).toHaveLength(3);
  });
});

describe('a "__proto__" field', () => {
  it('is refused in a new event', () => {
    expect(() => new DomainEvent(JSON.parse('{"__proto__": {"x": 1}}'))).toThrow(ValidationError);
  });
});

describe('joinFields (the spread-free merge on the path of every recorded event)', () => {
  it('merges like a spread: later parts win, keys keep their first position', () => {
    const joined = joinFields({ a: 1, b: 2 }, { b: 3, c: 4 }, { d: 5 });
    expect(joined).toEqual({ a: 1, b: 3, c: 4, d: 5 });
    expect(Object.keys(joined)).toEqual(['a', 'b', 'c', 'd']);
    expect(Object.getPrototypeOf(joined)).toBe(Object.prototype);
  });

  it('keeps an own "__proto__" key as data, so that the event constructor refuses it', () => {
    const joined = joinFields(JSON.parse('{"__proto__": {"x": 1}}') as object, { y: 2 });
    expect(Object.prototype.hasOwnProperty.call(joined, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(joined)).toBe(Object.prototype);
    expect(() => new DomainEvent(joined)).toThrow(ValidationError);
  });

  it('refuses a "__proto__" field given to an entity trigger', () => {
    class Gadget extends VersionedEntity {
      poke(fields: Record<string, unknown>): void {
        this.trigger(VersionedEntity.AttributeChanged, fields);
      }
    }
    const gadget = Gadget.create({}, { publisher: new EventPublisher() });
    expect(() => gadget.poke(JSON.parse('{"__proto__": {"x": 1}, "name": "a"}') as object as never)).toThrow(
      ValidationError,
    );
    expect(gadget.version).toBe(1);
  });
});
