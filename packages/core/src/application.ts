import { type DomainEntity, type Mutator } from './entity.js';
import { type DomainEvent, type EventPublisher, VersionedEntityEvent } from './events.js';
import { ValidationError } from './errors.js';
import { EventStore } from './event-store.js';
import { SequencedItemMapper, type SequencedItemMapperOptions } from './mapper.js';
import { NotificationLogReader } from './notification-log.js';
import { PersistencePolicy } from './persistence-policy.js';
import { type AggregateRecorder, type ApplicationRecorder, hasNotificationLog } from './recorders.js';
import { EventSourcedRepository } from './repository.js';
import { SnapshotStrategy } from './snapshots.js';

export interface ApplicationOptions<S extends AggregateRecorder<any> = AggregateRecorder<any>> {
  /** Where events are stored: the one thing that changes from backend to backend. */
  activeRecordStrategy: S;
  /**
   * Where snapshots are stored (optional): a strategy over a snapshots table (python eventsourcing's
   * `snapshot_active_record_strategy`). The application makes the SnapshotStrategy from it.
   */
  snapshotActiveRecordStrategy?: AggregateRecorder<any>;
  /** Mapper options: encryption, compression, topic registry. */
  mapper?: SequencedItemMapperOptions<any>;
  /** Which published events to store. Default: every versioned entity event. */
  persistEventType?: abstract new (...args: any[]) => DomainEvent;
  publisher?: EventPublisher;
  /** Called by close() after the writes are flushed, to release connections. */
  onClose?: () => Promise<void>;
}

/**
 * The reader of an application's notification log: there when its store keeps one. A store typed as an
 * ApplicationRecorder always has it; for any other, check (a Cassandra store, a snapshot table: none).
 */
export type NotificationLogOf<S> =
  S extends ApplicationRecorder<any> ? NotificationLogReader : NotificationLogReader | undefined;

/**
 * The seed's application shape: an event store, a persistence policy and repositories, wired to
 * whatever strategy is passed in. Use it with `await using app = ...` or call `close()`.
 */
export class Application<S extends AggregateRecorder<any> = AggregateRecorder<any>> {
  readonly eventStore: EventStore;
  readonly persistencePolicy: PersistencePolicy;
  /** The notification log, when the store keeps one (see NotificationLogOf). */
  readonly notificationLog: NotificationLogOf<S>;
  /** Takes and finds snapshots; there when `snapshotActiveRecordStrategy` was given. */
  readonly snapshotStrategy: SnapshotStrategy | undefined;
  private readonly onClose: (() => Promise<void>) | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: ApplicationOptions<S>) {
    if ((options as { snapshotStrategy?: unknown }).snapshotStrategy !== undefined) {
      // The option's old name, which the repository's SnapshotStrategy option also bore.
      throw new ValidationError(
        "the snapshots table's strategy is the option snapshotActiveRecordStrategy (snapshotStrategy is the repository's SnapshotStrategy)",
        'snapshotStrategy',
      );
    }
    const mapper = new SequencedItemMapper(options.mapper ?? {});
    this.eventStore = new EventStore({
      activeRecordStrategy: options.activeRecordStrategy,
      sequencedItemMapper: mapper,
    });
    this.persistencePolicy = new PersistencePolicy(this.eventStore, {
      eventType: options.persistEventType ?? VersionedEntityEvent,
      ...(options.publisher ? { publisher: options.publisher } : {}),
    });
    const store = options.activeRecordStrategy;
    this.notificationLog = (
      hasNotificationLog(store) ? new NotificationLogReader(store, mapper) : undefined
    ) as NotificationLogOf<S>;
    this.snapshotStrategy = options.snapshotActiveRecordStrategy
      ? new SnapshotStrategy({
          snapshotStore: new EventStore({
            activeRecordStrategy: options.snapshotActiveRecordStrategy,
            sequencedItemMapper: mapper,
          }),
        })
      : undefined;
    this.onClose = options.onClose;
  }

  /** A repository of entities rebuilt by `mutator`, using this application's snapshots if any. */
  repository<T extends DomainEntity>(
    mutator: Mutator<T>,
    options: { snapshotPeriod?: number } = {},
  ): EventSourcedRepository<T> {
    return new EventSourcedRepository<T>({
      eventStore: this.eventStore,
      mutator,
      ...(this.snapshotStrategy ? { snapshotStrategy: this.snapshotStrategy } : {}),
      ...(options.snapshotPeriod !== undefined ? { snapshotPeriod: options.snapshotPeriod } : {}),
    });
  }

  /** Waits for queued writes, rethrowing a failure. */
  flush(): Promise<void> {
    return this.eventStore.flush();
  }

  /**
   * Stops persisting, waits for queued writes (rethrowing a failure), then releases resources. A later
   * call waits for the first one to finish; only the first rethrows.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing.catch(() => undefined);
    this.closing = this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    let writeFailure: unknown;
    let failed = false;
    try {
      await this.persistencePolicy.close();
    } catch (error) {
      writeFailure = error;
      failed = true;
    }
    try {
      await this.onClose?.();
    } catch (closeFailure) {
      // Never let a failure to release resources hide a write that failed.
      if (failed)
        throw new AggregateError([writeFailure, closeFailure], 'a write failed, and so did closing');
      throw closeFailure;
    }
    if (failed) throw writeFailure;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
