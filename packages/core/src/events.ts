import type { ZodType } from 'zod';
import { ValidationError } from './errors.js';

let lastTimestamp = 0;

/**
 * Milliseconds since the epoch with microsecond resolution, strictly increasing within this process,
 * so that events sequenced by timestamp never share a position when created in the same millisecond.
 */
export function createTimestamp(): number {
  const now = Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
  lastTimestamp = now > lastTimestamp ? now : Math.round((lastTimestamp + 0.001) * 1000) / 1000;
  return lastTimestamp;
}

export interface DomainEventFields {
  readonly timestamp?: number;
  readonly [field: string]: unknown;
}

/**
 * An immutable fact. Its fields are its own enumerable properties; subclasses declare them with
 * `declare readonly`. A class may declare a zod `schema` for its payload, checked on encode and decode.
 */
export class DomainEvent {
  /** When the event was created: milliseconds since the epoch (fractional). */
  declare readonly timestamp: number;

  /** Optional payload schema (the fields other than the sequence id and position). */
  static schema?: ZodType;

  constructor(fields: DomainEventFields = {}) {
    if (Object.prototype.hasOwnProperty.call(fields, '__proto__')) {
      throw new ValidationError('an event field cannot be named "__proto__"', '__proto__');
    }
    Object.assign(this, fields);
    if (this.timestamp === undefined) (this as { timestamp: number }).timestamp = createTimestamp();
    Object.freeze(this);
  }

  /** The timestamp as a Date (millisecond precision). */
  get occurredOn(): Date {
    return new Date(this.timestamp);
  }
}

/** An event of one entity: it carries the entity's id. */
export class EntityEvent extends DomainEvent {
  declare readonly originatorId: string;
}

/** An event of a versioned entity: `originatorVersion` is the entity's version before the event. */
export class VersionedEntityEvent extends EntityEvent {
  declare readonly originatorVersion: number;
}

/** What an event does to an entity. The entity mutator dispatches on this. */
export type EventRole = 'created' | 'attributeChanged' | 'discarded' | 'other';

export function roleOf(event: DomainEvent): EventRole {
  return (event.constructor as { role?: EventRole }).role ?? 'other';
}

// --- In-process publish/subscribe (the seed's publish and subscribe) ---

export type EventHandler = (events: readonly DomainEvent[]) => void;
export type EventPredicate = (events: readonly DomainEvent[]) => boolean;

interface Subscription {
  handler: EventHandler;
  predicate: EventPredicate | undefined;
}

/**
 * Delivers published events to subscribers, synchronously and in order. One instance serves the process
 * by default (`defaultPublisher`), as in the seed; applications that need isolation pass their own.
 */
export class EventPublisher {
  private subscriptions: Subscription[] = [];

  subscribe(handler: EventHandler, predicate?: EventPredicate): void {
    this.subscriptions = [...this.subscriptions, { handler, predicate }];
  }

  unsubscribe(handler: EventHandler, predicate?: EventPredicate): void {
    this.subscriptions = this.subscriptions.filter(
      (s) => !(s.handler === handler && s.predicate === predicate),
    );
  }

  isSubscribed(handler: EventHandler): boolean {
    return this.subscriptions.some((s) => s.handler === handler);
  }

  publish(eventOrEvents: DomainEvent | readonly DomainEvent[]): void {
    const events = Array.isArray(eventOrEvents) ? eventOrEvents : [eventOrEvents as DomainEvent];
    // Iterate a snapshot: a handler that (un)subscribes does not disturb this delivery.
    for (const { handler, predicate } of this.subscriptions) {
      if (predicate === undefined || predicate(events)) handler(events);
    }
  }
}

export const defaultPublisher = new EventPublisher();

export function publish(eventOrEvents: DomainEvent | readonly DomainEvent[]): void {
  defaultPublisher.publish(eventOrEvents);
}

export function subscribe(handler: EventHandler, predicate?: EventPredicate): void {
  defaultPublisher.subscribe(handler, predicate);
}

export function unsubscribe(handler: EventHandler, predicate?: EventPredicate): void {
  defaultPublisher.unsubscribe(handler, predicate);
}
