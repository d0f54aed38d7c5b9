import { type DomainEntity, type EntityState, type Mutator } from './entity.js';
import type { DomainEvent } from './events.js';
import { NotFoundError, ValidationError } from './errors.js';
import type { EventStore } from './event-store.js';
import { checkPageSize } from './record-strategy.js';
import type { Snapshot, Snapshottable, SnapshotStrategy } from './snapshots.js';
import { describeValue } from './validation.js';

/** What a repository holds: entities and aggregates alike. */
export interface EventSourced {
  readonly id: string;
  readonly version: number;
  readonly isDiscarded?: boolean;
  /** The state a snapshot stores (entities and aggregates have it). */
  toState?(): EntityState;
}

/** An entity or aggregate whose new events wait to be saved (AggregateRoot, Aggregate). */
export interface HasPendingEvents extends EventSourced {
  readonly pendingEvents: readonly object[];
  collectPendingEvents(count?: number): DomainEvent[];
}

/** A class whose static `mutate` rebuilds its instances: every entity and aggregate class. */
export interface EventSourcedClass<T> {
  readonly mutate: Mutator<any>;
  readonly name: string;
  readonly prototype: T;
}

export type EventSourcedRepositoryOptions<T> = RepositoryOptionsBase &
  (
    | {
        /** The class of the entities (its static `mutate` rebuilds them): the repository's type follows from it. */
        entity: EventSourcedClass<T>;
        mutator?: undefined;
      }
    | {
        /** How to rebuild an entity from its events (the seed's `mutator=Example.mutate`). */
        mutator: Mutator<T>;
        entity?: undefined;
      }
  );

interface RepositoryOptionsBase {
  eventStore: EventStore<any, any>;
  /** Called with each entity the repository loads (an application binds its publisher here). */
  onLoad?: (entity: unknown) => void;
  snapshotStrategy?: SnapshotStrategy;
  /** Take a snapshot when a load replayed at least this many events. Needs a snapshot strategy. */
  snapshotPeriod?: number;
  /**
   * Events read per page while replaying. Default: the event store's strategy's `pageSize` (1,000;
   * 5,000 on SQL, where each page is a statement), else 1,000. At most two pages are held at once (one
   * replayed, the next read ahead), so memory stays bounded.
   */
  pageSize?: number;
}

/**
 * Entities by id, rebuilt from their events (and from the latest snapshot, when a snapshot strategy
 * is configured): the seed's `repository[id]` is `await repository.get(id)`, and `id in repository` is
 * `await repository.has(id)`.
 */
export class EventSourcedRepository<T extends EventSourced = DomainEntity> {
  readonly eventStore: EventStore<any, any>;
  private readonly mutator: Mutator<T>;
  private readonly snapshots: SnapshotStrategy | undefined;
  private readonly snapshotPeriod: number | undefined;
  private readonly pageSize: number;
  private readonly onLoad: ((entity: unknown) => void) | undefined;
  /** The events store reads the snapshots with the events, in one round trip (fixed by the two stores). */
  private readonly readsTogether: boolean;

  constructor(options: EventSourcedRepositoryOptions<T>) {
    if (typeof options?.eventStore?.replayDomainEvents !== 'function') {
      throw new ValidationError('a repository needs an eventStore (an EventStore)', 'eventStore');
    }
    if (options.snapshotStrategy !== undefined && typeof options.snapshotStrategy?.readsWith !== 'function') {
      throw new ValidationError('snapshotStrategy must be a SnapshotStrategy', 'snapshotStrategy');
    }
    this.eventStore = options.eventStore;
    const mutator = options.entity !== undefined ? options.entity.mutate : options.mutator;
    if (typeof mutator !== 'function') {
      throw new ValidationError('a repository needs an entity class or a mutator', 'entity');
    }
    this.mutator = mutator;
    this.snapshots = options.snapshotStrategy;
    this.snapshotPeriod = options.snapshotPeriod;
    this.pageSize = options.pageSize ?? options.eventStore.activeRecordStrategy.pageSize ?? 1000;
    checkPageSize(this.pageSize);
    this.onLoad = options.onLoad;
    this.readsTogether = this.snapshots?.readsWith(this.eventStore) ?? false;
    if (this.snapshotPeriod !== undefined) {
      if (!this.snapshots)
        throw new ValidationError('snapshotPeriod needs a snapshotStrategy', 'snapshotPeriod');
      if (!Number.isSafeInteger(this.snapshotPeriod) || this.snapshotPeriod < 1) {
        throw new ValidationError('snapshotPeriod must be a positive integer', 'snapshotPeriod');
      }
    }
  }

  /** True when the entity exists and is not discarded. */
  async has(id: string): Promise<boolean> {
    try {
      const entity = await this.load(id);
      return entity !== undefined && !entity.isDiscarded;
    } catch (error) {
      // The mutator of one class refuses another class's entity: this repository does not have it.
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  /**
   * The entity, rebuilt from its events. With `version`, the entity as it was at that version (after
   * that many events). Rejects with NotFoundError when it does not exist or is discarded.
   */
  async get(id: string, options: { version?: number } = {}): Promise<T> {
    const entity = await this.load(id, options.version);
    if (entity === undefined) throw notFound(id);
    if (entity.isDiscarded) throw new NotFoundError(`entity ${id} is discarded`, id);
    if (options.version !== undefined && entity.version !== options.version) {
      throw new NotFoundError(`entity ${id} has no version ${options.version}`, id);
    }
    return entity;
  }

  /** Appends an aggregate's pending events atomically. On a conflict nothing is written. */
  async save(aggregate: T & HasPendingEvents): Promise<void> {
    const events = [...aggregate.pendingEvents];
    if (events.length === 0) return;
    await this.eventStore.append(events);
    aggregate.collectPendingEvents(events.length);
  }

  /** Takes a snapshot of the entity at its current version (or the given one). */
  async takeSnapshot(id: string, options: { version?: number } = {}): Promise<void> {
    if (!this.snapshots)
      throw new ValidationError('this repository has no snapshot strategy', 'snapshotStrategy');
    const entity = await this.load(id, options.version, false);
    if (entity === undefined) throw notFound(id);
    await this.snapshots.takeSnapshot(snapshottable(entity));
  }

  private async load(id: string, version?: number, autoSnapshot = true): Promise<T | undefined> {
    if (typeof id !== 'string' || id.length === 0) {
      throw new ValidationError(`an entity id must be a non-empty string, got ${describeValue(id)}`, 'id');
    }
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
      throw new ValidationError('version must be a positive integer', 'version');
    }
    // Positions are the versions before each event, so the entity at version v has replayed positions < v.
    let entity: T | undefined;
    let gte: number | undefined;
    let gt: number | undefined;
    // The first page of events, when it was read with the snapshot.
    let first: DomainEvent[] | undefined;
    if (this.snapshots) {
      let snapshot: Snapshot | undefined;
      if (this.readsTogether) {
        const read = await this.snapshots.getSnapshotAndEvents(this.eventStore, id, {
          lte: version,
          lt: version,
          limit: this.pageSize,
        });
        snapshot = read.snapshot;
        first = read.events;
      } else {
        await this.eventStore.flush(id);
        snapshot = await this.snapshots.getSnapshot(id, version === undefined ? {} : { lte: version });
      }
      if (snapshot) {
        entity = this.snapshots.restore<T>(snapshot);
        // An unversioned entity (version 0) is sequenced by timestamp: replay what came after its last
        // event (not what was read from the snapshot's position on).
        if (snapshot.state.version > 0) gte = snapshot.originatorVersion;
        else {
          gt = snapshot.state.lastModifiedOn ?? -Infinity;
          first = undefined;
        }
      }
    }
    let replayed = 0;
    // One literal, no spreads: a bound left undefined is no bound (a spread here cost microseconds per load).
    const range = { gte, gt, lt: version, pageSize: this.pageSize };
    await this.eventStore.replayDomainEvents(
      id,
      range,
      (events) => {
        for (const event of events) entity = this.mutator(entity, event);
        replayed += events.length;
      },
      first,
    );
    if (
      autoSnapshot &&
      entity &&
      this.snapshots &&
      this.snapshotPeriod !== undefined &&
      replayed >= this.snapshotPeriod
    ) {
      await this.snapshots.takeSnapshot(snapshottable(entity));
    }
    if (entity !== undefined) this.onLoad?.(entity);
    return entity;
  }
}

function snapshottable(entity: EventSourced): Snapshottable {
  if (typeof entity.toState !== 'function') {
    throw new ValidationError(
      `${entity.constructor.name} has no toState(): it cannot be snapshotted`,
      'entity',
    );
  }
  return entity as Snapshottable;
}

/** No event is stored under the id: say the usual reason when it was just created. */
function notFound(id: string): NotFoundError {
  return new NotFoundError(
    `entity ${id} not found: no event is stored under this id (an entity that was just created is stored ` +
      'only when something stores its events: an Application, or a PersistencePolicy subscribed to the publisher it publishes to)',
    id,
  );
}
