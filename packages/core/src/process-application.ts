import { AsyncLocalStorage } from 'node:async_hooks';
import { Application, type ApplicationOptions } from './application.js';
import { AlreadyProcessedError, ConcurrencyError, ValidationError } from './errors.js';
import { type DomainEvent, sealEvent, withCausation } from './events.js';
import type { SequencedItemMapper } from './mapper.js';
import { type ProcessRecorder, requireProcessRecorder, validateTrackingName } from './process-recorder.js';
import { type ApplicationRecorder, requireNotificationLog } from './recorders.js';
import type { HasPendingEvents } from './repository.js';
import type { SequencedItem } from './sequenced-item.js';
import { type SubscribedEvent, Subscription, type SubscriptionOptions } from './subscription.js';

/** An upstream log a process application follows: another application, or its store and mapper. */
export type Upstream =
  | Application<ApplicationRecorder<any>>
  | { readonly store: ApplicationRecorder<any>; readonly mapper: SequencedItemMapper<any> };

export interface ProcessApplicationOptions<
  S extends ProcessRecorder<any, any>,
> extends ApplicationOptions<S> {
  /** The name its tracking records are kept under (with each upstream's name). Default: the class name. */
  name?: string;
  /** Times a notification is processed again after a ConcurrencyError on its own aggregates. Default 3. */
  retries?: number;
}

/**
 * An application that follows others (python eventsourcing's ProcessApplication): for each upstream
 * event, its `policy` loads and saves its own aggregates (with `this.get` and `this.save`, as any
 * application does), and the new events are written together with the tracking record of the upstream
 * notification, in one transaction of its store (a ProcessRecorder): all or none, so a crash or a
 * competing copy never loses or repeats an effect. The events it records continue the upstream
 * event's story: the same correlation id, and the upstream event's id as causation id.
 */
export abstract class ProcessApplication<
  S extends ProcessRecorder<any, any> = ProcessRecorder<any, any>,
> extends Application<S> {
  readonly name: string;
  private readonly store: ProcessRecorder<any, any>;
  private readonly retries: number;
  /** The aggregates saved by the policy now running: written with its tracking record. */
  private readonly collecting = new AsyncLocalStorage<HasPendingEvents[]>();
  private readonly followers = new Map<
    string,
    { subscription: Promise<Subscription>; running: Promise<void>; stop: () => void }
  >();

  constructor(options: ProcessApplicationOptions<S>) {
    super(options);
    this.name = validateTrackingName(options.name ?? this.constructor.name, 'name');
    this.store = requireProcessRecorder(this.eventStore.activeRecordStrategy, 'ProcessApplication');
    this.retries = options.retries ?? 3;
    if (!Number.isSafeInteger(this.retries) || this.retries < 0)
      throw new ValidationError('retries must be a non-negative integer', 'retries');
  }

  /** What this application does about one upstream event: load and save its own aggregates. */
  protected abstract policy(
    event: DomainEvent,
    context: { upstream: string; id: number },
  ): Promise<void> | void;

  /** Inside `policy`, saving only collects the events: they are written with the tracking record. */
  override async save(...aggregates: HasPendingEvents[]): Promise<void> {
    const collected = this.collecting.getStore();
    if (collected === undefined) return super.save(...aggregates);
    for (const aggregate of aggregates) {
      if (aggregate === null || typeof aggregate !== 'object' || !('pendingEvents' in aggregate))
        throw new ValidationError('save() takes aggregates (objects with pending events)', 'aggregates');
      if (!collected.includes(aggregate)) collected.push(aggregate);
    }
  }

  /** The tracking name of an upstream: this application's name and the upstream's. */
  trackingName(upstream: string): string {
    return `${this.name}<-${upstream}`;
  }

  /** The id of the last notification of `upstream` this application processed (its checkpoint), or 0. */
  processedUpTo(upstream: string): Promise<number> {
    return this.store.maxTrackingId(this.trackingName(upstream));
  }

  /**
   * Processes one upstream notification: the policy, then its aggregates' new events with the tracking
   * record in one transaction. A ConcurrencyError on its aggregates runs the policy again on fresh
   * loads (at most `retries` times); an AlreadyProcessedError says another copy did it, and is rethrown.
   */
  async process(upstream: string, notification: SubscribedEvent<DomainEvent>): Promise<void> {
    const { id, event } = notification;
    const tracking = { applicationName: this.trackingName(upstream), notificationId: id };
    const eventId = event.eventId;
    for (let attempt = 0; ; attempt++) {
      const collected: HasPendingEvents[] = [];
      const run = () => this.collecting.run(collected, () => this.policy(event, { upstream, id }));
      try {
        // Old events without metadata start no story: their consequences carry none.
        if (eventId === undefined) await run();
        else
          await withCausation({ correlationId: event.correlationId ?? eventId, causationId: eventId }, run);
        const batches = collected
          .map((aggregate) => [...aggregate.pendingEvents] as DomainEvent[])
          .filter((events) => events.length > 0);
        const mapper = this.eventStore.sequencedItemMapper;
        const append = batches.map((events) =>
          events.map((e) => mapper.toSequencedItem(sealEvent(e)) as SequencedItem),
        );
        await this.store.processWithTracking(tracking, () => undefined, { append });
        collected.forEach((aggregate, i) => aggregate.collectPendingEvents(batches[i]?.length ?? 0));
        return;
      } catch (error) {
        if (
          error instanceof AlreadyProcessedError ||
          !(error instanceof ConcurrencyError) ||
          attempt >= this.retries
        )
          throw error;
      }
    }
  }

  /**
   * Follows an upstream log from this application's tracking record for it: catches up, then follows
   * live, until `stop()`. Resolves when stopped; rejects with the error that stopped it (a policy's).
   */
  follow(
    upstreamName: string,
    upstream: Upstream,
    options: Pick<SubscriptionOptions, 'pollIntervalMs' | 'maxPollIntervalMs' | 'topics'> = {},
  ): Promise<void> {
    validateTrackingName(upstreamName, 'upstreamName');
    if (this.followers.has(upstreamName))
      throw new ValidationError(`${this.name} already follows ${upstreamName}`, 'upstreamName');
    const { store, mapper } =
      upstream instanceof Application
        ? {
            store: upstream.eventStore.activeRecordStrategy as ApplicationRecorder<any>,
            mapper: upstream.eventStore.sequencedItemMapper,
          }
        : upstream;
    requireNotificationLog(store, 'ProcessApplication.follow');
    let current: Subscription | undefined;
    let stopped = false;
    let ready!: (subscription: Subscription) => void;
    const follower = {
      subscription: new Promise<Subscription>((resolve) => (ready = resolve)),
      running: Promise.resolve(),
      stop: () => {
        stopped = true;
        current?.stop();
      },
    };
    const loop = async (): Promise<void> => {
      while (!stopped) {
        const after = await this.store.maxTrackingId(this.trackingName(upstreamName));
        const subscription = new Subscription(store, mapper, { ...options, after, pageSize: 100 });
        current = subscription;
        ready(subscription);
        if (stopped) return;
        try {
          for await (const notification of subscription) await this.process(upstreamName, notification);
          return;
        } catch (error) {
          // Another copy of this application processed it: resume after its checkpoint.
          if (error instanceof AlreadyProcessedError) continue;
          throw error;
        } finally {
          subscription.stop();
        }
      }
    };
    this.followers.set(upstreamName, follower);
    follower.running = loop().finally(() => this.followers.delete(upstreamName));
    return follower.running;
  }

  /** Resolves when every upstream followed has caught up (each up to where its log ended when read). */
  async whenCaughtUp(): Promise<void> {
    await Promise.all([...this.followers.values()].map(async (f) => (await f.subscription).whenCaughtUp()));
  }

  /** Stops following (after the notification in flight), then closes as an application does. */
  override async close(): Promise<void> {
    await this.stopFollowing();
    return super.close();
  }

  async stopFollowing(): Promise<void> {
    const followers = [...this.followers.values()];
    this.followers.clear();
    for (const f of followers) f.stop();
    await Promise.all(followers.map((f) => f.running.catch(() => undefined)));
  }
}
