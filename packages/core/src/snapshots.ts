import type { EntityState } from './entity.js';
import { ConcurrencyError, SettingsError } from './errors.js';
import { DomainEvent } from './events.js';
import type { EventStore } from './event-store.js';
import { readsSnapshotsWith } from './recorders.js';
import { type TopicRegistry, defaultTopics, registerTopic } from './topics.js';

/** A snapshot is stored as an event of the entity's snapshot sequence, at the entity's version. */
export class Snapshot extends DomainEvent {
  declare readonly originatorId: string;
  declare readonly originatorVersion: number;
  /** The topic of the entity's class. */
  declare readonly entityTopic: string;
  declare readonly state: EntityState;
}
registerTopic('es.Snapshot', Snapshot);

type EntityClass = { fromState(state: EntityState): unknown; name: string };

/** What can be snapshotted: entities and aggregates (their state, and their class's `fromState`). */
export interface Snapshottable {
  readonly id: string;
  toState(): EntityState;
}

export interface SnapshotStrategyOptions {
  /** An event store over the snapshots table (a strategy of its own, keyed by entity id and version). */
  snapshotStore: EventStore<Snapshot, any>;
  /** Where entity classes resolve. Default: the process-wide registry. */
  topics?: TopicRegistry;
}

/**
 * Takes and finds snapshots. An entity class must be registered (`registerTopic`) to be snapshotted,
 * so that restoring it never evaluates a stored name.
 */
export class SnapshotStrategy {
  private readonly store: EventStore<Snapshot, any>;
  private readonly topics: TopicRegistry;

  constructor(options: SnapshotStrategyOptions) {
    this.store = options.snapshotStore;
    // Snapshots sit at entity versions with gaps between them: a store that refuses gaps would refuse
    // every snapshot after the first, at run time. Say so now.
    if ((this.store.activeRecordStrategy as { contiguous?: unknown }).contiguous === true) {
      throw new SettingsError(
        'a snapshots store keeps positions with gaps (entity versions): make its strategy with contiguous: false (an in-memory one), or over a snapshots table (SqlSnapshot, CqlSnapshot)',
        'snapshotStore',
      );
    }
    this.topics = options.topics ?? defaultTopics;
  }

  async takeSnapshot(entity: Snapshottable): Promise<Snapshot> {
    const state = entity.toState();
    const snapshot = new Snapshot({
      originatorId: entity.id,
      // A versioned entity's snapshot sits at its version; an unversioned one's at its last event's
      // timestamp, so that each later snapshot has a later position (snapshot stores allow gaps).
      originatorVersion: state.version > 0 ? state.version : (state.lastModifiedOn ?? 0),
      entityTopic: this.topics.topicOf(entity.constructor),
      state,
    });
    // Two readers may snapshot the same version at once; the states are equal, so either may win.
    await this.store.append(snapshot).catch((error: unknown) => {
      if (!(error instanceof ConcurrencyError)) throw error;
    });
    return snapshot;
  }

  /** The newest snapshot at or below `lte` (an entity version), or undefined. */
  getSnapshot(entityId: string, query: { lte?: number } = {}): Promise<Snapshot | undefined> {
    return this.store.getMostRecentEvent(entityId, query);
  }

  /**
   * True when `events`' store reads this strategy's snapshots with its events in one round trip (see
   * SnapshotTailRecorder): getSnapshotAndEvents then takes one. It depends on the two stores alone.
   */
  readsWith(events: EventStore<any, any>): boolean {
    return readsSnapshotsWith(events.activeRecordStrategy, this.store.activeRecordStrategy);
  }

  /**
   * The newest snapshot at or below `lte`, and the first `limit` events of `events` from its position
   * (version) on (from the start without one), below `lt`: in one round trip where `readsWith` says the
   * stores can, else in two.
   * Queued writes of either store are waited for first (and their failure rethrown), as by each read.
   */
  async getSnapshotAndEvents<E extends DomainEvent>(
    events: EventStore<E, any>,
    entityId: string,
    query: { lte?: number; lt?: number; limit: number },
  ): Promise<{ snapshot: Snapshot | undefined; events: E[] }> {
    await events.flush(entityId);
    await this.store.flush(entityId);
    const recorder = events.activeRecordStrategy;
    if (!readsSnapshotsWith(recorder, this.store.activeRecordStrategy)) {
      // Two reads, one after the other: the same answer.
      const snapshot = await this.getSnapshot(entityId, { lte: query.lte });
      const after = { gte: snapshot?.originatorVersion, lt: query.lt, limit: query.limit };
      return { snapshot, events: await events.getDomainEvents(entityId, after) };
    }
    const read = await recorder.getSnapshotTail(this.store.activeRecordStrategy, entityId, {
      snapshotLte: query.lte,
      eventsLt: query.lt,
      limit: query.limit,
    });
    const eventMapper = events.sequencedItemMapper;
    const decoded = new Array<E>(read.events.length);
    for (let i = 0; i < decoded.length; i++) decoded[i] = eventMapper.fromSequencedItem(read.events[i]) as E;
    return {
      snapshot:
        read.snapshot === undefined
          ? undefined
          : (this.store.sequencedItemMapper.fromSequencedItem(read.snapshot) as Snapshot),
      events: decoded,
    };
  }

  restore<T>(snapshot: Snapshot): T {
    const cls = this.topics.resolve(snapshot.entityTopic) as unknown as EntityClass;
    return cls.fromState(snapshot.state) as T;
  }
}
