import { EntityIsDiscardedError, OriginatorError, ValidationError } from './errors.js';
import {
  type DomainEvent,
  type DomainEventFields,
  EntityEvent,
  type EventPublisher,
  type EventRole,
  VersionedEntityEvent,
  defaultPublisher,
  roleOf,
} from './events.js';
import { registerTopic } from './topics.js';
import { isUuid } from './validation.js';

/** Rebuilds an entity from its events, one at a time: `entity = mutate(entity, event)`. */
export type Mutator<T> = (initial: T | undefined, event: DomainEvent) => T;

/** The state a snapshot stores, and from which an entity is restored without replaying its events. */
export interface EntityState {
  readonly id: string;
  readonly version: number;
  readonly isDiscarded: boolean;
  readonly createdOn: number | undefined;
  readonly lastModifiedOn: number | undefined;
  readonly attributes: Readonly<Record<string, unknown>>;
}

function withRole<C extends abstract new (...args: any[]) => DomainEvent>(cls: C, role: EventRole): C {
  Object.defineProperty(cls, 'role', { value: role, enumerable: false });
  return cls;
}

// The event classes of unversioned entities (sequenced by timestamp).
class Created extends EntityEvent {}
class AttributeChanged extends EntityEvent {
  declare readonly name: string;
  declare readonly value: unknown;
}
class Discarded extends EntityEvent {}
withRole(Created, 'created');
withRole(AttributeChanged, 'attributeChanged');
withRole(Discarded, 'discarded');
registerTopic('es.DomainEntity.Event', EntityEvent);
registerTopic('es.DomainEntity.Created', Created);
registerTopic('es.DomainEntity.AttributeChanged', AttributeChanged);
registerTopic('es.DomainEntity.Discarded', Discarded);

// The event classes of versioned entities (sequenced by version).
class VersionedCreated extends VersionedEntityEvent {}
class VersionedAttributeChanged extends VersionedEntityEvent {
  declare readonly name: string;
  declare readonly value: unknown;
}
class VersionedDiscarded extends VersionedEntityEvent {}
withRole(VersionedCreated, 'created');
withRole(VersionedAttributeChanged, 'attributeChanged');
withRole(VersionedDiscarded, 'discarded');
registerTopic('es.VersionedEntity.Event', VersionedEntityEvent);
registerTopic('es.VersionedEntity.Created', VersionedCreated);
registerTopic('es.VersionedEntity.AttributeChanged', VersionedAttributeChanged);
registerTopic('es.VersionedEntity.Discarded', VersionedDiscarded);

type EventClass = new (fields: DomainEventFields) => DomainEvent;

/**
 * An entity whose state is the result of its events. Attributes live in one record so that the generic
 * mutator, snapshots and attribute setters treat every entity alike; subclasses expose them with
 * getters and setters:
 *
 *     get foo(): string { return this.getAttribute('foo') as string }
 *     set foo(value: string) { this.changeAttribute('foo', value) }
 */
export class DomainEntity {
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

  constructor(id: string) {
    if (!isUuid(id)) throw new ValidationError(`entity id must be a UUID, got ${JSON.stringify(id)}`, 'id');
    this.id = id;
  }

  get isDiscarded(): boolean {
    return this._isDiscarded;
  }

  /** The entity's version: the number of events applied. Unversioned entities report 0. */
  get version(): number {
    return 0;
  }

  getAttribute(name: string): unknown {
    this.assertNotDiscarded();
    return this.attributes[name];
  }

  /** Records an AttributeChanged event, applies it and publishes it. */
  changeAttribute(name: string, value: unknown): void {
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
    const event = new EventClass({ ...fields, ...this.originatorFields() });
    this.publish(event);
    this.apply(event);
    return event;
  }

  /** The fields that identify this entity in its next event. */
  protected originatorFields(): Record<string, unknown> {
    return { originatorId: this.id };
  }

  protected publish(event: DomainEvent): void {
    (this.constructor as typeof DomainEntity).publisher.publish(event);
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
  static fromState<T extends DomainEntity>(this: new (id: string) => T, state: EntityState): T {
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
   * Examples, as the seed's `Example.mutate` does.
   */
  static get mutate(): Mutator<any> {
    const cls = this as unknown as new (id: string) => DomainEntity;
    return (initial, event) => mutateEntity(cls, initial, event);
  }
}

/** The generic mutator: a Created event makes a new entity of `cls`; any other event updates `initial`. */
export function mutateEntity<T extends DomainEntity>(
  cls: new (id: string) => T,
  initial: T | undefined,
  event: DomainEvent,
): T {
  if (roleOf(event) === 'created') {
    if (initial !== undefined) throw new OriginatorError(`entity ${initial.id} already exists`);
    const originatorId = (event as EntityEvent).originatorId;
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

/** An entity whose events carry consecutive versions, so that concurrent changes conflict. */
export class VersionedEntity extends DomainEntity {
  static override readonly Event: typeof VersionedEntityEvent = VersionedEntityEvent;
  static override readonly Created: typeof VersionedCreated = VersionedCreated;
  static override readonly AttributeChanged: typeof VersionedAttributeChanged = VersionedAttributeChanged;
  static override readonly Discarded: typeof VersionedDiscarded = VersionedDiscarded;

  protected _version = 0;

  override get version(): number {
    return this._version;
  }

  protected override originatorFields(): Record<string, unknown> {
    return { originatorId: this.id, originatorVersion: this._version };
  }

  override apply(event: DomainEvent): void {
    super.apply(event);
    this._version += 1;
  }

  protected override validateOriginator(event: DomainEvent): void {
    super.validateOriginator(event);
    const version = (event as VersionedEntityEvent).originatorVersion;
    if (version !== this._version) {
      throw new OriginatorError(
        `event version ${String(version)} does not follow entity ${this.id} at version ${this._version}`,
      );
    }
  }

  override applyCreated(event: DomainEvent): void {
    const version = (event as VersionedEntityEvent).originatorVersion;
    if (version !== 0)
      throw new OriginatorError(`a Created event must have version 0, got ${String(version)}`);
    super.applyCreated(event);
    this._version = 1;
  }

  protected override restore(state: EntityState): void {
    super.restore(state);
    this._version = state.version;
  }
}

/** An unversioned entity that records when it was created and last modified. */
export class TimestampedEntity extends DomainEntity {
  get createdOn(): Date | undefined {
    return this._createdOn === undefined ? undefined : new Date(this._createdOn);
  }
  get lastModifiedOn(): Date | undefined {
    return this._lastModifiedOn === undefined ? undefined : new Date(this._lastModifiedOn);
  }
}

/** A versioned entity that records when it was created and last modified. */
export class TimestampedVersionedEntity extends VersionedEntity {
  get createdOn(): Date | undefined {
    return this._createdOn === undefined ? undefined : new Date(this._createdOn);
  }
  get lastModifiedOn(): Date | undefined {
    return this._lastModifiedOn === undefined ? undefined : new Date(this._lastModifiedOn);
  }
}

/**
 * An entity whose new events are held until saved, so that one save appends them all atomically:
 * `await repository.save(aggregate)`.
 */
export class AggregateRoot extends TimestampedVersionedEntity {
  private pending: DomainEvent[] = [];

  /** Holds the event instead of publishing it. */
  protected override publish(event: DomainEvent): void {
    this.pending.push(event);
  }

  /** The events not yet saved, oldest first. */
  get pendingEvents(): readonly DomainEvent[] {
    return this.pending;
  }

  /**
   * Hands over the oldest `count` pending events, all by default (the repository calls this when it has
   * saved them; events recorded while the save was in flight stay pending).
   */
  collectPendingEvents(count: number = this.pending.length): DomainEvent[] {
    const events = this.pending.slice(0, count);
    this.pending = this.pending.slice(count);
    return events;
  }

  /** Records a new aggregate: the Created event stays pending until saved. */
  static create<T extends AggregateRoot>(
    this: new (id: string) => T,
    id: string,
    fields: Record<string, unknown> = {},
  ): T {
    const cls = this as unknown as typeof AggregateRoot & (new (id: string) => T);
    const event = new cls.Created({ ...fields, originatorId: id, originatorVersion: 0 });
    const aggregate = mutateEntity(cls, undefined, event);
    aggregate.pending.push(event);
    return aggregate;
  }
}
