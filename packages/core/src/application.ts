import { randomUUID } from 'node:crypto';
import { type AggregateClass, registerAggregate } from './aggregate.js';
import { type AttributesOf, type DomainEntity, type EntityClass, bindPublisher } from './entity.js';
import { ConcurrencyError, StoreClosedError, ValidationError } from './errors.js';
import { type DomainEvent, EventPublisher, VersionedEntityEvent, withCausation } from './events.js';
import { EventStore } from './event-store.js';
import { SequencedItemMapper, type SequencedItemMapperOptions } from './mapper.js';
import { NotificationLogReader } from './notification-log.js';
import { PersistencePolicy } from './persistence-policy.js';
import { type AggregateRecorder, type ApplicationRecorder, hasNotificationLog } from './recorders.js';
import {
  type EventSourced,
  type EventSourcedClass,
  EventSourcedRepository,
  type HasPendingEvents,
} from './repository.js';
import { SnapshotStrategy } from './snapshots.js';
import { Subscription, type SubscriptionOptions } from './subscription.js';
import { type Projection, ProjectionRunner, type ProjectionRunnerOptions } from './projection.js';
import { type OpenStoreOptions, type Store, openStore } from './store.js';
import { type TopicRegistry, defaultTopics } from './topics.js';
import type { Mutator } from './entity.js';

export interface ApplicationOptions<S extends AggregateRecorder<unknown> = AggregateRecorder<unknown>> {
  /** An opened store (`openStore(url)`, or a backend's own opener): events and snapshots. */
  store?: Store<S>;
  /** Where events are stored, wired by hand (the seed's way); instead of `store`. */
  activeRecordStrategy?: S;
  /**
   * Where snapshots are stored, wired by hand (optional): a strategy over a snapshots table (python
   * eventsourcing's `snapshot_active_record_strategy`). The application makes the SnapshotStrategy from it.
   */
  snapshotActiveRecordStrategy?: AggregateRecorder<unknown>;
  /** Aggregate classes this application stores: their topics are registered (see registerAggregate). */
  aggregates?: readonly AggregateClass[];
  /** Where topics resolve. Default: the process-wide registry. */
  topics?: TopicRegistry;
  /** Mapper options: encryption, compression. */
  mapper?: Omit<SequencedItemMapperOptions<any>, 'topics'>;
  /** Which published events to store. Default: every versioned entity event. */
  persistEventType?: abstract new (...args: any[]) => DomainEvent;
  /**
   * Where the entities this application creates and loads publish their events, and where its
   * persistence policy listens. Default: a publisher of its own, so that two applications in one
   * process never store each other's events.
   */
  publisher?: EventPublisher;
  /** Called by close() after the writes are flushed, to release connections. */
  onClose?: () => Promise<void>;
}

export interface OpenApplicationOptions<S extends AggregateRecorder<unknown> = AggregateRecorder<unknown>>
  extends
    Omit<ApplicationOptions<S>, 'store' | 'activeRecordStrategy' | 'snapshotActiveRecordStrategy'>,
    OpenStoreOptions {
  /** The store: an opened one, or a URL (default: ES_URL, else a SQLite file, `sqlite:./es.sqlite`). */
  store?: Store<S> | string;
}

/**
 * The reader of an application's notification log: there when its store keeps one. A store typed as an
 * ApplicationRecorder always has it; for any other, check (a Cassandra store, a snapshot table: none).
 */
export type NotificationLogOf<S> =
  S extends ApplicationRecorder<any> ? NotificationLogReader : NotificationLogReader | undefined;

/**
 * The seed's application shape: an event store, a persistence policy and repositories, over a store.
 * The short way: `await using app = await Application.open({ aggregates: [Account], createTables: true })`,
 * then `app.save(account)`, `await app.get(Account, id)`. Close it with `await using` or `close()`.
 */
export class Application<S extends AggregateRecorder<unknown> = AggregateRecorder<unknown>> {
  readonly eventStore: EventStore;
  readonly persistencePolicy: PersistencePolicy;
  /** The notification log, when the store keeps one (see NotificationLogOf). */
  readonly notificationLog: NotificationLogOf<S>;
  /** Takes and finds snapshots; there when the store or `snapshotActiveRecordStrategy` has a place for them. */
  readonly snapshotStrategy: SnapshotStrategy | undefined;
  readonly publisher: EventPublisher;
  readonly topics: TopicRegistry;
  private readonly onClose: (() => Promise<void>) | undefined;
  private readonly repositories = new Map<unknown, EventSourcedRepository<any>>();
  /** The subscriptions and projection runners made here: close() stops them before the store closes. */
  readonly #followers = new Set<{ [Symbol.asyncDispose](): Promise<void> }>();
  private closing: Promise<void> | undefined;
  /** Whether the publisher is this application's own: then, once closed, it refuses events (see close). */
  private readonly ownsPublisher: boolean;
  private readonly description: string;

  constructor(options: ApplicationOptions<S>) {
    if ((options as { snapshotStrategy?: unknown }).snapshotStrategy !== undefined) {
      // The option's old name, which the repository's SnapshotStrategy option also bore.
      throw new ValidationError(
        "the snapshots table's strategy is the option snapshotActiveRecordStrategy (snapshotStrategy is the repository's SnapshotStrategy)",
        'snapshotStrategy',
      );
    }
    const events = options.store?.events ?? options.activeRecordStrategy;
    if (events === undefined) {
      throw new ValidationError('an application needs a store (or an activeRecordStrategy)', 'store');
    }
    this.topics = options.topics ?? defaultTopics;
    for (const cls of options.aggregates ?? []) registerAggregate(cls, cls.topic, this.topics);
    const mapper = new SequencedItemMapper({ ...options.mapper, topics: this.topics });
    this.eventStore = new EventStore({ activeRecordStrategy: events, sequencedItemMapper: mapper });
    this.publisher = options.publisher ?? new EventPublisher();
    this.ownsPublisher = options.publisher === undefined;
    this.description = options.store?.description ?? 'its store';
    this.persistencePolicy = new PersistencePolicy(this.eventStore, {
      eventType: options.persistEventType ?? VersionedEntityEvent,
      publisher: this.publisher,
    });
    this.notificationLog = (
      hasNotificationLog(events) ? new NotificationLogReader(events, mapper) : undefined
    ) as NotificationLogOf<S>;
    const snapshots = options.store?.snapshots ?? options.snapshotActiveRecordStrategy;
    this.snapshotStrategy = snapshots
      ? new SnapshotStrategy({
          snapshotStore: new EventStore({ activeRecordStrategy: snapshots, sequencedItemMapper: mapper }),
          topics: this.topics,
        })
      : undefined;
    const store = options.store;
    this.onClose =
      store === undefined
        ? options.onClose
        : async () => {
            try {
              await options.onClose?.();
            } finally {
              await store.close();
            }
          };
  }

  /**
   * An application over the store a URL names (or an opened store), opened now: tables are created
   * first when `createTables` is true. Close it with `await using` or `close()`, which closes the store.
   */
  static async open<A extends Application<any>>(
    this: new (options: ApplicationOptions<any>) => A,
    options: OpenApplicationOptions<any> = {},
  ): Promise<A> {
    const { store: given, createTables, ...rest } = options;
    const store =
      given === undefined || typeof given === 'string'
        ? await openStore(given, createTables === undefined ? {} : { createTables })
        : given;
    try {
      return new this({ ...rest, store });
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /**
   * The repository of an entity or aggregate class (or, the seed's way, of a mutator), using this
   * application's snapshots if any. Entities it loads publish to this application.
   */
  repository<T extends EventSourced>(
    entity: EventSourcedClass<T> | Mutator<T>,
    options: { snapshotPeriod?: number } = {},
  ): EventSourcedRepository<T> {
    this.checkOpen();
    const key = options.snapshotPeriod === undefined ? entity : undefined;
    const cached = key === undefined ? undefined : this.repositories.get(key);
    if (cached) return cached as EventSourcedRepository<T>;
    const isClass = typeof entity === 'function' && 'mutate' in entity && entity.prototype !== undefined;
    const repository = new EventSourcedRepository<T>({
      eventStore: this.eventStore,
      ...(isClass ? { entity: entity as EventSourcedClass<T> } : { mutator: entity as Mutator<T> }),
      ...(this.snapshotStrategy ? { snapshotStrategy: this.snapshotStrategy } : {}),
      ...(options.snapshotPeriod !== undefined ? { snapshotPeriod: options.snapshotPeriod } : {}),
      onLoad: (loaded) => this.adopt(loaded),
    });
    if (key !== undefined) this.repositories.set(key, repository);
    return repository;
  }

  /** The entity or aggregate of this class with this id (as it was at `version`, if given). */
  async get<T extends EventSourced>(
    cls: EventSourcedClass<T>,
    id: string,
    options: { version?: number } = {},
  ): Promise<T> {
    return this.repository(cls).get(id, options);
  }

  /** Saves aggregates' new events: each aggregate's events atomically, one aggregate after another. */
  async save(...aggregates: HasPendingEvents[]): Promise<void> {
    this.checkOpen();
    for (const aggregate of aggregates) {
      if (aggregate === null || typeof aggregate !== 'object' || !('pendingEvents' in aggregate)) {
        throw new ValidationError('save() takes aggregates (objects with pending events)', 'aggregates');
      }
      const events = [...aggregate.pendingEvents];
      if (events.length === 0) continue;
      await this.eventStore.append(events as DomainEvent[]);
      aggregate.collectPendingEvents(events.length);
    }
  }

  /**
   * A new entity of a class whose setters record events (the seed's kind), publishing to this
   * application: `app.create(Example, { foo: 'bar1' })`.
   */
  create<T extends DomainEntity<any>>(cls: EntityClass<T>, fields: Partial<AttributesOf<T>> = {}): T {
    this.checkOpen();
    const create = (cls as unknown as { create: (f: object, o: object) => T }).create;
    return create.call(cls, fields, { publisher: this.publisher });
  }

  /**
   * Runs a command on an aggregate: loads it, calls `command` on it, saves its new events; on a
   * ConcurrencyError (another writer saved first) it starts again from a fresh load, at most `retries`
   * times (default 3). The events it records carry the command's id as correlation and causation id.
   */
  async handle<A extends HasPendingEvents>(
    cls: EventSourcedClass<A>,
    id: string,
    command: (aggregate: A) => void | Promise<void>,
    options: { retries?: number; commandId?: string } = {},
  ): Promise<A> {
    this.checkOpen();
    const retries = options.retries ?? 3;
    if (!Number.isSafeInteger(retries) || retries < 0) {
      throw new ValidationError('retries must be a non-negative integer', 'retries');
    }
    const commandId = options.commandId ?? randomUUID();
    for (let attempt = 0; ; attempt++) {
      try {
        return await withCausation({ correlationId: commandId, causationId: commandId }, async () => {
          const aggregate = await this.get(cls, id);
          await command(aggregate);
          await this.save(aggregate);
          return aggregate;
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= retries) throw error;
      }
    }
  }

  /**
   * A live subscription to this application's notification log, decoding with its topics and mapper:
   * catches up from `options.after`, then follows (see Subscription). Only for a store that keeps a log.
   */
  subscribe<E = DomainEvent>(
    this: Application<ApplicationRecorder<any>>,
    options: SubscriptionOptions = {},
  ): Subscription<E> {
    this.checkOpen();
    return this.#keep(
      new Subscription<E>(
        this.eventStore.activeRecordStrategy as ApplicationRecorder<any>,
        this.eventStore.sequencedItemMapper,
        options,
      ),
    );
  }

  /**
   * A runner of `projection` over this application's log (not started: `start()`, `run()` or
   * `rebuild()` it). Its read model and tracking go to `options.recorder`, or to this application's
   * store when that is a process recorder.
   */
  projection<E = DomainEvent, H = unknown>(
    this: Application<ApplicationRecorder<any>>,
    projection: Projection<E, H>,
    options: Omit<ProjectionRunnerOptions<E, H>, 'projection' | 'source' | 'mapper'> = {},
  ): ProjectionRunner<E, H> {
    this.checkOpen();
    return this.#keep(
      new ProjectionRunner<E, H>({
        ...options,
        projection,
        source: this.eventStore.activeRecordStrategy as ApplicationRecorder<any>,
        mapper: this.eventStore.sequencedItemMapper,
      }),
    );
  }

  #keep<F extends { [Symbol.asyncDispose](): Promise<void> }>(follower: F): F {
    this.#followers.add(follower);
    return follower;
  }

  /** Waits for queued writes, rethrowing a failure. */
  flush(): Promise<void> {
    return this.eventStore.flush();
  }

  /**
   * Stops persisting, waits for queued writes (rethrowing a failure), then releases resources. A later
   * call waits for the first one to finish; only the first rethrows.
   *
   * Forgetting `await` loses nothing: the queued writes still run, and the store closes after them. From
   * the call on, the application refuses new work with StoreClosedError: `get`, `save`, `create`,
   * `handle`, `repository`, `subscribe`, `projection`, and (with its own publisher) an entity's setter,
   * whose event could no longer be stored. Subscriptions and projection runners made by the application
   * are stopped first.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing.catch(() => undefined);
    this.closing = this.shutDown();
    return this.closing;
  }

  /** True from the first close() on. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  private checkOpen(): void {
    if (this.closing !== undefined) {
      throw new StoreClosedError(
        `this application (over ${this.description}) is closed: nothing was done; open a new one`,
      );
    }
  }

  private adopt(loaded: unknown): void {
    if (loaded !== null && typeof loaded === 'object' && 'changeAttribute' in loaded) {
      bindPublisher(loaded as DomainEntity<any>, this.publisher);
    }
  }

  private async shutDown(): Promise<void> {
    let writeFailure: unknown;
    let failed = false;
    if (this.ownsPublisher) {
      // Nothing would store an event published from now on: the setter that publishes it throws instead.
      this.publisher.subscribe(() => this.checkOpen());
    }
    // Followers first (a runner's transaction in flight finishes): they read and write the store, and a
    // subscription left polling would keep the process alive. A runner's own failure was reported by
    // its run() / whenCaughtUp(); disposing it does not rethrow.
    await Promise.all([...this.#followers].map((follower) => follower[Symbol.asyncDispose]()));
    this.#followers.clear();
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
