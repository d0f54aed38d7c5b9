import { randomUUID } from 'node:crypto';
import { AttributeChanged, Created, Discarded } from './entity-events.js';
import { EntityIsDiscardedError, NotFoundError, OriginatorError, ValidationError } from './errors.js';
import {
  type DomainEvent,
  type DomainEventFields,
  EntityEvent,
  type EventPublisher,
  defaultPublisher,
  joinFields,
  newEventMetadata,
  roleOf,
  sealEvent,
} from './events.js';
import { isUuid } from './validation.js';

/** Rebuilds an entity from its events, one at a time: `entity = mutate(entity, event)`. */
export type Mutator<T> = (initial: T | undefined, event: DomainEvent) => T;

/**
 * The type of a class's `mutate` (entities, aggregates). A static getter cannot name the class it is read
 * from, so: a repository given it without a type argument infers `Base` (TypeScript infers from the last
 * signature), and one that names its class (`new EventSourcedRepository<Example>({ mutator:
 * Example.mutate })`, the seed's wiring) is given that class (the first). At run time the function refuses
 * another class's events.
 */
export type ClassMutator<Base> = (<E extends Base>(initial: E | undefined, event: DomainEvent) => E) &
  Mutator<Base>;

/** The state a snapshot stores, and from which an entity is restored without replaying its events. */
export interface EntityState {
  readonly id: string;
  readonly version: number;
  readonly isDiscarded: boolean;
  readonly createdOn: number | undefined;
  readonly lastModifiedOn: number | undefined;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** The attribute record of an entity class: what `getAttribute`, `changeAttribute` and `create` are typed by. */
export type Attributes = object;
/** The attributes of an entity type. */
export type AttributesOf<T> = T extends { readonly [ATTRIBUTES]?: infer A } ? A : never;

type EventClass = new (fields: DomainEventFields) => DomainEvent;
/** A concrete entity class, as the mutator and `create` need it. */
export type EntityClass<T extends DomainEntity<any>> = (new (id: string) => T) & {
  readonly Created: abstract new (...args: any[]) => DomainEvent;
  readonly name: string;
};

const PUBLISHER = Symbol('publisher');
/** Carries an entity class's attribute type for inference (`AttributesOf`); no value at run time. */
declare const ATTRIBUTES: unique symbol;

/**
 * An entity whose state is the result of its events. Attributes live in one record so that the generic
 * mutator, snapshots and attribute setters treat every entity alike; subclasses expose them with
 * getters and setters, typed by the class's attribute record `A`:
 *
 *     class Example extends TimestampedVersionedEntity<{ foo: string }> {
 *       get foo() { return this.getAttribute('foo') }
 *       set foo(value) { this.changeAttribute('foo', value) }
 *     }
 */
export class DomainEntity<A extends Attributes = Record<string, unknown>> {
  static readonly Event: typeof EntityEvent = EntityEvent;
  static readonly Created: typeof Created = Created;
  static readonly AttributeChanged: typeof AttributeChanged = AttributeChanged;
  static readonly Discarded: typeof Discarded = Discarded;

  /** Where this class's events are published. Override per class, or leave the process-wide default. */
  static publisher: EventPublisher = defaultPublisher;

  readonly id: string;
  protected _isDiscarded = false;
  protected _createdOn: number | undefined;
  protected _lastModifiedOn: number | undefined;
  // No prototype: an attribute named "__proto__" is stored as data, never as the record's prototype.
  protected readonly attributes: Record<string, unknown> = Object.create(null);
  /** Set by the application that created or loaded this entity: its events go there. */
  [PUBLISHER]: EventPublisher | undefined;
  declare readonly [ATTRIBUTES]?: A;

  constructor(id: string) {
    if (!isUuid(id)) throw new ValidationError(`entity id must be a UUID, got ${JSON.stringify(id)}`, 'id');
    this.id = id;
  }

  /**
   * Records a new entity of this class from its Created event (given `fields` become its attributes),
   * and publishes the event: `const example = Example.create({ foo: 'bar1' })`. The id is a fresh UUID
   * unless given; `publisher` overrides where the event goes (an application passes its own).
   */
  static create<T extends DomainEntity<any>>(
    this: EntityClass<T>,
    fields: Partial<AttributesOf<T>> = {},
    options: { id?: string; publisher?: EventPublisher } = {},
  ): T {
    const cls = this as unknown as EntityClass<T> & typeof DomainEntity;
    const id = options.id ?? randomUUID();
    if (!isUuid(id)) throw new ValidationError(`entity id must be a UUID, got ${JSON.stringify(id)}`, 'id');
    const event = new (cls.Created as unknown as EventClass)(
      joinFields(fields, cls.initialOriginatorFields(id), newEventMetadata()),
    );
    const entity = mutateEntity<T>(this, undefined, event);
    if (options.publisher !== undefined) bindPublisher(entity, options.publisher);
    entity.publish(sealEvent(event));
    return entity;
  }

  /** The originator fields of a new entity's Created event. */
  protected static initialOriginatorFields(id: string): Record<string, unknown> {
    return { originatorId: id };
  }

  get isDiscarded(): boolean {
    return this._isDiscarded;
  }

  /** The entity's version: the number of events applied. Unversioned entities report 0. */
  get version(): number {
    return 0;
  }

  getAttribute<K extends keyof A & string>(name: K): A[K] {
    this.assertNotDiscarded();
    return this.attributes[name] as A[K];
  }

  /** Records an AttributeChanged event, applies it and publishes it. */
  changeAttribute<K extends keyof A & string>(name: K, value: A[K]): void {
    const cls = this.constructor as typeof DomainEntity;
    this.trigger(cls.AttributeChanged as unknown as EventClass, { name, value });
  }

  /** Records a Discarded event. Afterwards the entity is unusable and the repository no longer has it. */
  discard(): void {
    const cls = this.constructor as typeof DomainEntity;
    this.trigger(cls.Discarded as unknown as EventClass, {});
  }

  assertNotDiscarded(): void {
    if (this._isDiscarded) throw new EntityIsDiscardedError(`entity ${this.id} is discarded`);
  }

  /**
   * Builds an event of this entity, publishes it, then applies it to this entity. Publishing first means
   * an event that cannot be stored (it fails its schema, its topic is unknown, its value cannot be
   * encoded) throws before the entity moves on: the entity never runs ahead of its stored history.
   */
  protected trigger(EventClass: EventClass, fields: Record<string, unknown>): DomainEvent {
    this.assertNotDiscarded();
    const event = new EventClass(joinFields(fields, this.originatorFields(), newEventMetadata()));
    this.publish(sealEvent(event));
    this.apply(event);
    return event;
  }

  /** The fields that identify this entity in its next event. */
  protected originatorFields(): Record<string, unknown> {
    return { originatorId: this.id };
  }

  protected publish(event: DomainEvent): void {
    (this[PUBLISHER] ?? (this.constructor as typeof DomainEntity).publisher).publish(event);
  }

  /** Applies one event to this entity. Subclasses extend it for events of their own. */
  apply(event: DomainEvent): void {
    this.validateOriginator(event);
    switch (roleOf(event)) {
      case 'attributeChanged': {
        const { name, value } = event as AttributeChanged;
        this.attributes[name] = value;
        break;
      }
      case 'discarded':
        this._isDiscarded = true;
        break;
      case 'created':
        throw new OriginatorError(`entity ${this.id} already exists: cannot apply a Created event to it`);
      default:
        break;
    }
    this._lastModifiedOn = event.timestamp;
  }

  protected validateOriginator(event: DomainEvent): void {
    const originatorId = (event as EntityEvent).originatorId;
    if (originatorId !== this.id) {
      throw new OriginatorError(`event for ${String(originatorId)} applied to entity ${this.id}`);
    }
  }

  /** Sets the entity up from its Created event (the mutator calls this). Subclasses may extend it. */
  applyCreated(event: DomainEvent): void {
    const {
      originatorId: _id,
      originatorVersion: _v,
      timestamp,
      eventId: _e,
      correlationId: _c,
      causationId: _k,
      ...attributes
    } = event as unknown as Record<string, unknown>;
    Object.assign(this.attributes, attributes);
    this._createdOn = timestamp as number;
    this._lastModifiedOn = timestamp as number;
  }

  /** The state a snapshot stores. */
  toState(): EntityState {
    return {
      id: this.id,
      version: this.version,
      isDiscarded: this._isDiscarded,
      createdOn: this._createdOn,
      lastModifiedOn: this._lastModifiedOn,
      attributes: { ...this.attributes },
    };
  }

  /** Restores an entity of this class from a snapshot's state. */
  static fromState<T extends DomainEntity<any>>(this: new (id: string) => T, state: EntityState): T {
    const entity = new this(state.id);
    entity.restore(state);
    return entity;
  }

  protected restore(state: EntityState): void {
    this._isDiscarded = state.isDiscarded;
    this._createdOn = state.createdOn;
    this._lastModifiedOn = state.lastModifiedOn;
    Object.assign(this.attributes, state.attributes);
  }

  /**
   * This class's mutator, bound to the class it was read from: `mutator: Example.mutate` rebuilds
   * Examples, as the seed's `Example.mutate` does. Typed by ClassMutator: without a type argument a
   * repository holds `DomainEntity`s (not `any`); `new EventSourcedRepository<Example>({ mutator:
   * Example.mutate })` or `{ entity: Example }` holds Examples.
   */
  static get mutate(): ClassMutator<DomainEntity> {
    const cls = this as unknown as EntityClass<DomainEntity>;
    const mutate: Mutator<DomainEntity> = (initial, event) => mutateEntity(cls, initial, event);
    // It makes entities of the class it was read from; which class that is, the caller's type argument says.
    return mutate as ClassMutator<DomainEntity>;
  }
}

/** Makes an entity publish its events to `publisher` (an application's), not its class's. */
export function bindPublisher(entity: DomainEntity<any>, publisher: EventPublisher): void {
  entity[PUBLISHER] = publisher;
}

/**
 * The generic mutator: a Created event of `cls` makes a new entity of `cls`; any other event updates
 * `initial`. The Created event of another entity class is a NotFoundError: the repository of one class
 * does not have the entities of another.
 */
export function mutateEntity<T extends DomainEntity<any>>(
  cls: EntityClass<T>,
  initial: T | undefined,
  event: DomainEvent,
): T {
  if (roleOf(event) === 'created') {
    if (initial !== undefined) throw new OriginatorError(`entity ${initial.id} already exists`);
    const originatorId = (event as EntityEvent).originatorId;
    if (!(event instanceof cls.Created)) {
      throw new NotFoundError(
        `entity ${originatorId} was created by ${(event as DomainEvent).constructor.name}, not by ${cls.name}'s Created event: it is not a ${cls.name}`,
        originatorId,
      );
    }
    const entity = new cls(originatorId);
    entity.applyCreated(event);
    return entity;
  }
  if (initial === undefined) {
    throw new OriginatorError(
      `a ${event.constructor.name} event needs an existing entity; the first event must be Created`,
    );
  }
  initial.apply(event);
  return initial;
}
