import { randomUUID } from 'node:crypto';
import type { ClassMutator, EntityState, Mutator } from './entity.js';
import { NotFoundError, OriginatorError, SettingsError, ValidationError } from './errors.js';
import { DomainEvent, type EventMetadata, joinFields, newEventMetadata, sealEvent } from './events.js';
import { type PayloadSchema, checkSchema } from './schemas.js';
import { type TopicRegistry, defaultTopics } from './topics.js';
import { isUuid } from './validation.js';

/** The payload of each event of an aggregate, by event name: `{ Opened: { owner: string }; ... }`. */
export type EventMap = { [type: string]: object };

/** What every aggregate event carries besides its payload. */
export interface AggregateEventFields extends EventMetadata {
  /** The event's name in the aggregate's event map. */
  readonly type: string;
  readonly originatorId: string;
  /** The aggregate's version before the event: 0 for its first event. */
  readonly originatorVersion: number;
  readonly timestamp: number;
}

/**
 * The events of an aggregate as a discriminated union on `type`: `switch (event.type)` narrows the
 * payload, and a `never` default makes the switch exhaustive.
 */
export type EventOf<M extends EventMap, K extends keyof M & string = keyof M & string> = {
  [T in K]: Omit<AggregateEventFields, 'type'> & { readonly type: T } & Readonly<M[T]>;
}[K];

/** The event map of an aggregate class or instance. */
export type EventsOf<A> = A extends Aggregate<infer M> ? M : never;

/** Optional zod schemas of an aggregate's payloads, checked when an event is recorded and when it is read. */
export type EventSchemas<M extends EventMap> = { readonly [K in keyof M]?: PayloadSchema<M[K]> };

/** A concrete aggregate class: constructed without arguments (a fresh, empty aggregate). */
export type AggregateClass<A extends Aggregate<any> = Aggregate<any>> = (new () => A) & {
  readonly topic?: string;
  readonly schemas?: EventSchemas<any>;
  readonly name: string;
};

/**
 * The events of aggregates, at run time: one subclass per aggregate class (made when the class is
 * registered), so that an event knows its aggregate and the mapper stores it under the aggregate's
 * topic plus its type (`bank.Account.Deposited`).
 */
export class AggregateEvent extends DomainEvent {
  declare readonly type: string;
  declare readonly originatorId: string;
  declare readonly originatorVersion: number;
  /** The aggregate class whose events these are (set on each aggregate's own subclass). */
  static readonly aggregate: AggregateClass | undefined;
  static schemaOf(type: string): PayloadSchema | undefined {
    return this.aggregate?.schemas?.[type];
  }
}

const EVENTS = Symbol('events');
type WithEventClass = AggregateClass & { [EVENTS]?: typeof AggregateEvent };

/** The event class of an aggregate class: made once, on first use. */
export function eventClassOf(cls: AggregateClass): typeof AggregateEvent {
  const holder = cls as WithEventClass;
  if (!Object.prototype.hasOwnProperty.call(holder, EVENTS)) {
    const events = { [`${cls.name}Event`]: class extends AggregateEvent {} }[`${cls.name}Event`]!;
    Object.defineProperty(events, 'aggregate', { value: cls });
    Object.defineProperty(holder, EVENTS, { value: events });
  }
  return holder[EVENTS]!;
}

/**
 * Registers an aggregate class and its events under its topic (the class's static `topic`, or the one
 * given): the class for its snapshots, and every `<topic>.<type>` for its events. Stored topics are only
 * ever looked up in the registry, never evaluated.
 */
export function registerAggregate<C extends AggregateClass>(
  cls: C,
  topic: string | undefined = cls.topic,
  registry: TopicRegistry = defaultTopics,
): C {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new SettingsError(
      `aggregate class ${cls.name} has no topic: give it \`static readonly topic = 'app.${cls.name}'\``,
      'topic',
    );
  }
  registry.register(topic, cls);
  registry.registerFamily(topic, eventClassOf(cls));
  return cls;
}

/**
 * An aggregate whose events are typed by its event map `M`. State lives in ordinary fields; `trigger`
 * records an event and applies it; `apply` is where the state changes, one case per event type:
 *
 *     type AccountEvents = { Opened: { owner: string }; Deposited: { amount: number } };
 *     class Account extends Aggregate<AccountEvents> {
 *       static readonly topic = 'bank.Account';
 *       owner = '';
 *       balance = 0;
 *       deposit(amount: number) { this.trigger('Deposited', { amount }); }
 *       protected apply(event: EventOf<AccountEvents>) {
 *         switch (event.type) {
 *           case 'Opened': this.owner = event.owner; break;
 *           case 'Deposited': this.balance += event.amount; break;
 *         }
 *       }
 *     }
 *     const account = Account.create('Opened', { owner: 'Ada' });
 *
 * New events stay pending until saved (`app.save(account)`), which appends them atomically. The class
 * must be constructible without arguments: the repository builds an empty one and replays its events.
 */
export abstract class Aggregate<M extends EventMap = EventMap> {
  #id = '';
  #version = 0;
  #createdOn: number | undefined;
  #modifiedOn: number | undefined;
  #pending: AggregateEvent[] = [];

  get id(): string {
    return this.#id;
  }

  /** The number of events applied. */
  get version(): number {
    return this.#version;
  }

  get createdOn(): Date | undefined {
    return this.#createdOn === undefined ? undefined : new Date(this.#createdOn);
  }

  get modifiedOn(): Date | undefined {
    return this.#modifiedOn === undefined ? undefined : new Date(this.#modifiedOn);
  }

  /** Events recorded and not yet saved, oldest first. */
  get pendingEvents(): readonly EventOf<M>[] {
    return this.#pending as unknown as EventOf<M>[];
  }

  /** Hands over the oldest `count` pending events (the repository calls this once it saved them). */
  collectPendingEvents(count: number = this.#pending.length): DomainEvent[] {
    return this.#pending.splice(0, count);
  }

  /** Where the state changes: one case per event type. Called for new and for replayed events alike. */
  protected abstract apply(event: EventOf<M>): void;

  /**
   * Records an event: checks its payload against the class's schema (if any), applies it, and keeps it
   * pending until the aggregate is saved.
   */
  protected trigger<K extends keyof M & string>(type: K, payload: M[K]): EventOf<M, K> {
    const cls = this.constructor as AggregateClass;
    if (this.#id === '') {
      throw new OriginatorError(`create a ${cls.name} with ${cls.name}.create(), not with new`);
    }
    const events = eventClassOf(cls);
    const schema = events.schemaOf(type);
    const checked = schema
      ? checkSchema(
          schema,
          { ...payload } as Record<string, unknown>,
          `${cls.topic ?? cls.name}.${type}`,
          'record',
        )
      : payload;
    const event = new events(
      joinFields(
        checked,
        { type, originatorId: this.#id, originatorVersion: this.#version },
        newEventMetadata(),
      ),
    );
    this.#applyEvent(sealEvent(event));
    this.#pending.push(event);
    return event as unknown as EventOf<M, K>;
  }

  #applyEvent(event: AggregateEvent): void {
    if (event.originatorId !== this.#id) {
      throw new OriginatorError(`event for ${event.originatorId} applied to aggregate ${this.#id}`);
    }
    if (event.originatorVersion !== this.#version) {
      throw new OriginatorError(
        `event version ${event.originatorVersion} does not follow aggregate ${this.#id} at version ${this.#version}`,
      );
    }
    this.apply(event as unknown as EventOf<M>);
    this.#version += 1;
    this.#createdOn ??= event.timestamp;
    this.#modifiedOn = event.timestamp;
  }

  /** Records a new aggregate with its first event: `Account.create('Opened', { owner: 'Ada' })`. */
  static create<A extends Aggregate<any>, K extends keyof EventsOf<A> & string>(
    this: AggregateClass<A>,
    type: K,
    payload: EventsOf<A>[K],
    options: { id?: string } = {},
  ): A {
    const id = options.id ?? randomUUID();
    if (!isUuid(id))
      throw new ValidationError(`aggregate id must be a UUID, got ${JSON.stringify(id)}`, 'id');
    const aggregate = new this();
    aggregate.#id = id;
    aggregate.trigger(type, payload);
    return aggregate;
  }

  /**
   * The mutator of this class (what a repository replays with): an event at version 0 starts a new
   * aggregate, later ones update it. Events of another aggregate class are a NotFoundError.
   */
  static get mutate(): ClassMutator<Aggregate> {
    const cls = this as unknown as AggregateClass;
    const events = eventClassOf(cls);
    const mutate: Mutator<Aggregate> = (initial, event) => {
      if (!(event instanceof events)) {
        const id = (event as { originatorId?: string }).originatorId;
        throw new NotFoundError(`${id} is not a ${cls.name}: it has a ${event.constructor.name} event`, id);
      }
      let aggregate = initial;
      if (aggregate === undefined) {
        aggregate = new cls();
        aggregate.#id = event.originatorId;
      }
      aggregate.#applyEvent(event);
      return aggregate;
    };
    // It makes aggregates of the class it was read from; which class that is, the caller's type argument says.
    return mutate as ClassMutator<Aggregate>;
  }

  /** The state a snapshot stores: the aggregate's own fields. */
  toState(): EntityState {
    return {
      id: this.#id,
      version: this.#version,
      isDiscarded: false,
      createdOn: this.#createdOn,
      lastModifiedOn: this.#modifiedOn,
      attributes: { ...this } as Record<string, unknown>,
    };
  }

  /** An aggregate of this class as a snapshot's state holds it. */
  static fromState<A extends Aggregate<any>>(this: new () => A, state: EntityState): A {
    const aggregate = Object.assign(new this(), state.attributes);
    aggregate.#id = state.id;
    aggregate.#version = state.version;
    aggregate.#createdOn = state.createdOn;
    aggregate.#modifiedOn = state.lastModifiedOn;
    return aggregate;
  }
}
