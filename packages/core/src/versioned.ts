import { VersionedAttributeChanged, VersionedCreated, VersionedDiscarded } from './entity-events.js';
import { OriginatorError } from './errors.js';
import { type DomainEvent, VersionedEntityEvent } from './events.js';
import { type Attributes, DomainEntity, type EntityState } from './entity.js';

/** An entity whose events carry consecutive versions, so that concurrent changes conflict. */
export class VersionedEntity<A extends Attributes = Record<string, unknown>> extends DomainEntity<A> {
  static override readonly Event: typeof VersionedEntityEvent = VersionedEntityEvent;
  static override readonly Created: typeof VersionedCreated = VersionedCreated;
  static override readonly AttributeChanged: typeof VersionedAttributeChanged = VersionedAttributeChanged;
  static override readonly Discarded: typeof VersionedDiscarded = VersionedDiscarded;

  protected _version = 0;

  protected static override initialOriginatorFields(id: string): Record<string, unknown> {
    return { originatorId: id, originatorVersion: 0 };
  }

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
export class TimestampedEntity<A extends Attributes = Record<string, unknown>> extends DomainEntity<A> {
  get createdOn(): Date | undefined {
    return this._createdOn === undefined ? undefined : new Date(this._createdOn);
  }
  get lastModifiedOn(): Date | undefined {
    return this._lastModifiedOn === undefined ? undefined : new Date(this._lastModifiedOn);
  }
}

/** A versioned entity that records when it was created and last modified. */
export class TimestampedVersionedEntity<
  A extends Attributes = Record<string, unknown>,
> extends VersionedEntity<A> {
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
export class AggregateRoot<
  A extends Attributes = Record<string, unknown>,
> extends TimestampedVersionedEntity<A> {
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
}
