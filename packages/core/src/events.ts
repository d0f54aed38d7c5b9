import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { PayloadSchema } from './schemas.js';
import { ValidationError } from './errors.js';

let lastTimestamp = 0;

/**
 * Milliseconds since the epoch by the wall clock, with microseconds, strictly increasing within this
 * process: an event stamped at or before the last one (the same microsecond, or the wall clock set back)
 * gets the last timestamp plus one microsecond, so that events sequenced by timestamp never share a
 * position.
 *
 * Read from `Date.now()`, not from `performance.timeOrigin + performance.now()`: the monotonic clock
 * is not corrected when the wall clock is (NTP, a suspended machine), so a long-running process would
 * stamp events further and further from the time every other process reads.
 */
export function createTimestamp(): number {
  // The wall clock's millisecond, and below it the monotonic clock's fraction (µs): ties are then rare, so a
  // burst of events does not run ahead of the wall clock by a microsecond per event.
  const now = Math.round((Date.now() + (performance.now() % 1)) * 1000) / 1000;
  lastTimestamp = now > lastTimestamp ? now : Math.round((lastTimestamp + 0.001) * 1000) / 1000;
  return lastTimestamp;
}

export interface DomainEventFields {
  readonly timestamp?: number;
  readonly [field: string]: unknown;
}

/**
 * Who caused an event and which story it belongs to. Every event an entity or aggregate records gets a
 * fresh `eventId`; the two others come from the causation context (`withCausation`), which a command
 * handler or a process application sets, so that one story can be followed across applications. Stored
 * events written before these fields existed decode with them undefined.
 */
export interface EventMetadata {
  readonly eventId?: string;
  /** The first command or event of the story. */
  readonly correlationId?: string;
  /** The command or event that directly caused this one. */
  readonly causationId?: string;
}

/** The fields every event has, whatever its class: what a typed payload is added to. */
export type BaseEventFields = { readonly timestamp?: number } & EventMetadata;

/** The constructor of an event class whose payload `P` is typed (see `DomainEvent.withPayload`). */
export type TypedEventClass<C extends abstract new (...args: any[]) => DomainEvent, P extends object> = Omit<
  C,
  'prototype'
> &
  (new (fields: RequiredFieldsOf<InstanceType<C>> & BaseEventFields & P) => InstanceType<C> & Readonly<P>) & {
    prototype: InstanceType<C> & Readonly<P>;
  };

/** The identifying fields a class's events must be given (originator id and version, where it has them). */
export type RequiredFieldsOf<E> = Pick<E, Extract<keyof E, 'originatorId' | 'originatorVersion'>>;

/** Classes whose field declarations overwrite constructor-given values (see the constructor), by class. */
type AnyClass = abstract new (...args: any[]) => unknown;
const clobbering = new WeakMap<AnyClass, boolean>();
let probing = false;

/**
 * An immutable fact. Its fields are its own enumerable properties. Declare them the way you like:
 * `declare readonly amount: number`, a class field `readonly amount!: number`, a parameter property, or
 * `extends withPayload<{ amount: number }>()(VersionedEntityEvent)`, which also types the constructor.
 * An event is frozen when it is recorded (triggered, published or stored), not when constructed, so
 * that a subclass's own constructor and field initialisers can run.
 */
export class DomainEvent {
  /** When the event was created: milliseconds since the epoch (fractional). */
  declare readonly timestamp: number;
  declare readonly eventId?: string;
  declare readonly correlationId?: string;
  declare readonly causationId?: string;

  /** Optional payload schema (the fields other than the sequence id and position). */
  static schema?: PayloadSchema;

  constructor(fields: DomainEventFields = {}) {
    for (const reserved of ['__proto__', 'constructor']) {
      // `constructor` would hide the event's class from the mapper (which finds its topic through it).
      if (Object.prototype.hasOwnProperty.call(fields, reserved)) {
        throw new ValidationError(`an event field cannot be named "${reserved}"`, reserved);
      }
    }
    Object.assign(this, fields);
    if (this.timestamp === undefined) (this as { timestamp: number }).timestamp = createTimestamp();
    const cls = new.target;
    if (probing || cls === DomainEvent) return;
    // Under ES2022 class-field semantics, `readonly amount!: number` in a subclass redefines `amount` as
    // undefined after this constructor returns. Whether a class does that is learnt once, by building one
    // throwaway instance; such a class's instances ignore that redefinition, keeping the given value.
    let clobbers = clobbering.get(cls);
    if (clobbers === undefined) {
      clobbers = clobbersFields(cls, fields);
      clobbering.set(cls, clobbers);
    }
    // Returning an object from a base constructor makes it the instance the subclass initialises.
    if (clobbers) return new Proxy(this, keepGivenFields);
  }

  /** The timestamp as a Date (millisecond precision). */
  get occurredOn(): Date {
    return new Date(this.timestamp);
  }

  /**
   * This class, with a typed payload: `class Deposited extends VersionedEntityEvent.withPayload<{ amount:
   * number }>() {}` types `new Deposited({ originatorId, originatorVersion, amount })` and `event.amount`,
   * so a misspelt or missing field does not compile. At run time it is this very class.
   */
  static withPayload<
    P extends object,
    C extends abstract new (...args: any[]) => DomainEvent = typeof DomainEvent,
  >(this: C): TypedEventClass<C, P> {
    return this as unknown as TypedEventClass<C, P>;
  }
}

/**
 * An event class with a typed payload: `class Deposited extends withPayload<{ amount: number }>()(VersionedEntityEvent) {}`
 * types `new Deposited({ originatorId, originatorVersion, amount })` and `event.amount`, so a misspelt or
 * missing field does not compile. At run time it is the base class itself.
 */
export function withPayload<P extends object>(): <C extends abstract new (...args: any[]) => DomainEvent>(
  base: C,
) => TypedEventClass<C, P> {
  return (base) => base as never;
}

function clobbersFields(cls: AnyClass, fields: DomainEventFields): boolean {
  const keys = Object.keys(fields);
  if (keys.length === 0) return false;
  probing = true;
  try {
    const probe = Reflect.construct(cls, [fields]) as Record<string, unknown>;
    return keys.some((key) => probe[key] === undefined && fields[key] !== undefined);
  } catch {
    return false; // the real construction will throw the same error
  } finally {
    probing = false;
  }
}

/** Ignores a class field's definition (value undefined, all attributes true) over a given value. */
const keepGivenFields: ProxyHandler<DomainEvent> = {
  defineProperty(target, key, descriptor) {
    const own = target as unknown as Record<PropertyKey, unknown>;
    if (
      descriptor.value === undefined &&
      'value' in descriptor &&
      descriptor.writable === true &&
      descriptor.enumerable === true &&
      descriptor.configurable === true &&
      Object.prototype.hasOwnProperty.call(own, key) &&
      own[key] !== undefined
    ) {
      return true;
    }
    return Reflect.defineProperty(target, key, descriptor);
  },
};

/** Freezes an event as it is recorded: from then on it never changes. Returns the event. */
export function sealEvent<E extends DomainEvent>(event: E): E {
  if (!Object.isFrozen(event)) Object.freeze(event);
  return event;
}

// --- The causation context: which command or event the events recorded now are caused by ---

const causation = new AsyncLocalStorage<Required<Pick<EventMetadata, 'correlationId' | 'causationId'>>>();

/**
 * Runs `run` with a causation context: every event recorded inside it (also after awaits) gets this
 * correlation and causation id. A command handler starts a story (`correlationId` = the command's id);
 * a process application continues one (the upstream event's correlation id, and its event id as cause).
 */
export function withCausation<T>(context: { correlationId: string; causationId: string }, run: () => T): T {
  return causation.run({ correlationId: context.correlationId, causationId: context.causationId }, run);
}

/** The metadata for an event recorded now: a fresh event id, and the current causation context if any. */
export function newEventMetadata(): EventMetadata {
  const context = causation.getStore();
  const eventId = randomUUID();
  return context === undefined
    ? { eventId }
    : { eventId, correlationId: context.correlationId, causationId: context.causationId };
}

/**
 * `{ ...a, ...b, ...c }`, made the fast way: on Node 20's V8 a literal that spreads more than one object,
 * or adds properties after a spread, costs microseconds per object (it is on every recorded event's
 * path), where `Object.assign` onto a fresh literal costs a tenth of that. A part with an own
 * "__proto__" key takes the spread, which keeps that key as data for the event's own check to refuse
 * (assigning it would set the prototype instead).
 */
export function joinFields(a: object, b: object, c: object = {}): Record<string, unknown> {
  if (hasOwnProto(a) || hasOwnProto(b) || hasOwnProto(c)) return { ...a, ...b, ...c };
  return Object.assign({}, a, b, c) as Record<string, unknown>;
}

function hasOwnProto(value: object): boolean {
  return value != null && Object.prototype.hasOwnProperty.call(value, '__proto__');
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
    for (const event of events) sealEvent(event);
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
