import { type AggregateRoot, type DomainEntity, type Mutator } from './entity.js';
import { NotFoundError, ValidationError } from './errors.js';
import type { EventStore } from './event-store.js';
import type { SnapshotStrategy } from './snapshots.js';

export interface EventSourcedRepositoryOptions<T> {
  eventStore: EventStore<any, any>;
  mutator: Mutator<T>;
  snapshotStrategy?: SnapshotStrategy;
  /** Take a snapshot when a load replayed at least this many events. Needs a snapshot strategy. */
  snapshotPeriod?: number;
  /** Events read per page while replaying. */
  pageSize?: number;
}

/**
 * Entities by id, rebuilt from their events (and from the latest snapshot, when a snapshot strategy
 * is configured): the seed's `repository[id]` is `await repository.get(id)`, and `id in repository` is
 * `await repository.has(id)`.
 */
export class EventSourcedRepository<T extends DomainEntity = DomainEntity> {
  readonly eventStore: EventStore<any, any>;
  private readonly mutator: Mutator<T>;
  private readonly snapshots: SnapshotStrategy | undefined;
  private readonly snapshotPeriod: number | undefined;
  private readonly pageSize: number;

  constructor(options: EventSourcedRepositoryOptions<T>) {
    this.eventStore = options.eventStore;
    this.mutator = options.mutator;
    this.snapshots = options.snapshotStrategy;
    this.snapshotPeriod = options.snapshotPeriod;
    this.pageSize = options.pageSize ?? 1000;
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
    const entity = await this.load(id);
    return entity !== undefined && !entity.isDiscarded;
  }

  /**
   * The entity, rebuilt from its events. With `version`, the entity as it was at that version (after
   * that many events). Rejects with NotFoundError when it does not exist or is discarded.
   */
  async get(id: string, options: { version?: number } = {}): Promise<T> {
    const entity = await this.load(id, options.version);
    if (entity === undefined || entity.isDiscarded) throw new NotFoundError(`entity ${id} not found`, id);
    if (options.version !== undefined && entity.version !== options.version) {
      throw new NotFoundError(`entity ${id} has no version ${options.version}`, id);
    }
    return entity;
  }

  /** Appends an aggregate's pending events atomically. On a conflict nothing is written. */
  async save(aggregate: AggregateRoot): Promise<void> {
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
    if (entity === undefined) throw new NotFoundError(`entity ${id} not found`, id);
    await this.snapshots.takeSnapshot(entity);
  }

  private async load(id: string, version?: number, autoSnapshot = true): Promise<T | undefined> {
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
      throw new ValidationError('version must be a positive integer', 'version');
    }
    // Positions are the versions before each event, so the entity at version v has replayed positions < v.
    let entity: T | undefined;
    let after: { gte: number } | { gt: number } | undefined;
    if (this.snapshots) {
      await this.eventStore.flush(id);
      const snapshot = await this.snapshots.getSnapshot(id, version === undefined ? {} : { lte: version });
      if (snapshot) {
        entity = this.snapshots.restore<T>(snapshot);
        // An unversioned entity (version 0) is sequenced by timestamp: replay what came after its last event.
        after =
          snapshot.state.version > 0
            ? { gte: snapshot.originatorVersion }
            : { gt: snapshot.state.lastModifiedOn ?? -Infinity };
      }
    }
    let replayed = 0;
    const range = {
      ...after,
      ...(version === undefined ? {} : { lt: version }),
      pageSize: this.pageSize,
    };
    for await (const events of this.eventStore.iterateDomainEventPages(id, range)) {
      for (const event of events) entity = this.mutator(entity, event);
      replayed += events.length;
    }
    if (
      autoSnapshot &&
      entity &&
      this.snapshots &&
      this.snapshotPeriod !== undefined &&
      replayed >= this.snapshotPeriod
    ) {
      await this.snapshots.takeSnapshot(entity);
    }
    return entity;
  }
}
