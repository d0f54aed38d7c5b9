import { AlreadyProcessedError, ValidationError } from './errors.js';
import type { DomainEvent } from './events.js';
import type { SequencedItemMapper } from './mapper.js';
import { type ProjectionRecorder, validateTrackingName } from './process-recorder.js';
import { type ApplicationRecorder, requireNotificationLog } from './recorders.js';
import { type SubscribedEvent, Subscription, type SubscriptionOptions } from './subscription.js';
import type { Tracking } from './tracking.js';

/**
 * A read model kept from an application's events (python eventsourcing's projection, Emmett's
 * projection): `process` writes what one event changes through `handle`, the transaction its tracking
 * record commits in (a Kysely transaction on SQL; nothing in memory). `name` is what its tracking
 * records are kept under: two runners with one name are one projection, and never both apply an event.
 */
export interface Projection<E = DomainEvent, H = unknown> {
  readonly name: string;
  /** Only these topics are read (and tracked). Absent: every topic. */
  readonly topics?: readonly string[];
  process(event: E, handle: H, notification: SubscribedEvent<E>): Promise<void> | void;
  /** Empties the read model, in the transaction that forgets the tracking records (see rebuild). */
  reset?(handle: H): Promise<void> | void;
}

export interface ProjectionRunnerOptions<E, H> {
  projection: Projection<E, H>;
  /** The log followed: any store with a notification log (its `appended` signal wakes the runner at once). */
  source: ApplicationRecorder<any>;
  /** Decodes the source's notifications (an application's `eventStore.sequencedItemMapper`). */
  mapper: SequencedItemMapper<any>;
  /**
   * Where the read model and its tracking records are written together. Default: the source, when it
   * is a process recorder itself (the read model then lives in the same database as the log).
   */
  recorder?: ProjectionRecorder<H>;
  /** Notifications processed in one transaction, at most (where the recorder rolls back the handle's writes). Default 100. */
  pageSize?: number;
  pollIntervalMs?: SubscriptionOptions['pollIntervalMs'];
  maxPollIntervalMs?: SubscriptionOptions['maxPollIntervalMs'];
}

/**
 * Runs a projection: resumes after its highest tracking record, processes each notification's events
 * and records its tracking in one transaction (`processWithTracking`), then follows the log live.
 *
 * Exactly once: a crash at any point (a SIGKILL included) leaves each notification either processed
 * with its tracking record or neither, so a restart neither loses nor repeats an effect. A competing
 * runner of the same projection is refused (AlreadyProcessedError) where it would repeat one; this
 * runner then resumes after the other's checkpoint. A `process` that throws rolls its transaction back
 * and stops the runner with that error: `run()` rejects with it and the checkpoint stays before it.
 *
 * Where the recorder's transactions cannot undo the handler's own writes (in memory: `handleRollsBack`
 * is not true), each notification gets a transaction of its own, so a handler that throws must leave
 * its read model as it was.
 */
export class ProjectionRunner<E = DomainEvent, H = unknown> implements AsyncDisposable {
  readonly projection: Projection<E, H>;
  readonly recorder: ProjectionRecorder<H>;
  private readonly source: ApplicationRecorder<any>;
  private readonly mapper: SequencedItemMapper<any>;
  private readonly pageSize: number;
  private readonly polling: Pick<SubscriptionOptions, 'pollIntervalMs' | 'maxPollIntervalMs'>;
  private subscription: Subscription<E> | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private caughtUpWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #caughtUp = false;
  #position = 0;

  constructor(options: ProjectionRunnerOptions<E, H>) {
    const { projection, mapper, pageSize = 100 } = options;
    if (projection === null || typeof projection !== 'object' || typeof projection.process !== 'function')
      throw new ValidationError(
        'projection must have a name and a process(event, handle) method',
        'projection',
      );
    validateTrackingName(projection.name, 'projection.name');
    if (!Number.isSafeInteger(pageSize) || pageSize < 1)
      throw new ValidationError('pageSize must be a positive integer', 'pageSize');
    this.projection = projection;
    this.source = requireNotificationLog(options.source, 'ProjectionRunner');
    this.mapper = mapper;
    const recorder = options.recorder ?? (options.source as unknown as ProjectionRecorder<H>);
    if (typeof recorder?.processWithTracking !== 'function' || typeof recorder.maxTrackingId !== 'function') {
      throw new ValidationError(
        'ProjectionRunner needs a recorder for the read model and its tracking (a ProjectionRecorder): pass `recorder`, or a source that is a process recorder',
        'recorder',
      );
    }
    this.recorder = recorder;
    this.pageSize = recorder.handleRollsBack === true ? pageSize : 1;
    this.polling = {
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      ...(options.maxPollIntervalMs === undefined ? {} : { maxPollIntervalMs: options.maxPollIntervalMs }),
    };
  }

  /** The id of the last notification this runner processed (or resumed after). */
  get position(): number {
    return this.#position;
  }

  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  /**
   * Follows the log until `stop()` (or `signal`): resolves then, rejects with the error that stopped it
   * (a handler's, a read's, a write's).
   */
  run(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.running !== undefined) throw new ValidationError('this runner is already running', 'run');
    this.stopping = false;
    const onAbort = (): void => void this.stop();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const running = this.follow().finally(() => {
      options.signal?.removeEventListener('abort', onAbort);
      if (this.running === running) this.running = undefined;
    });
    running.then(
      () => {
        if (!this.#caughtUp)
          this.settleCaughtUp(new ValidationError('the runner stopped before it caught up', 'run'));
      },
      (error: unknown) => this.settleCaughtUp(error),
    );
    this.running = running;
    if (options.signal?.aborted) onAbort();
    return running;
  }

  /** Starts `run()` in the background; its failure is reported by `whenCaughtUp()` and `stop()`. */
  start(options: { signal?: AbortSignal } = {}): this {
    this.run(options).catch(() => undefined);
    return this;
  }

  /**
   * Resolves once the runner has processed everything the log held when it last reached its end;
   * rejects with the error that stopped it first.
   */
  whenCaughtUp(): Promise<void> {
    if (this.#caughtUp) return Promise.resolve();
    if (this.running === undefined)
      return Promise.reject(new ValidationError('the runner is not running', 'run'));
    return new Promise((resolve, reject) => this.caughtUpWaiters.push({ resolve, reject }));
  }

  /** Stops following, after the transaction in flight; rethrows the error that stopped the runner, if one did. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.subscription?.stop();
    await this.running;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop().catch(() => undefined);
  }

  /**
   * Rebuilds the read model from the start of the log, in one call: stops the runner if it runs,
   * forgets the tracking records and empties the read model (`projection.reset`) in one transaction,
   * then processes the whole log again, and resolves when it has caught up. A runner that was running
   * goes on following; one that was not stops there.
   */
  async rebuild(): Promise<void> {
    const wasRunning = this.running !== undefined;
    await this.stop();
    await this.recorder.deleteTracking(this.projection.name, (handle) => this.projection.reset?.(handle));
    this.start();
    await this.whenCaughtUp();
    if (!wasRunning) await this.stop();
  }

  private async follow(): Promise<void> {
    this.#caughtUp = false;
    while (!this.stopping) {
      const after = await this.recorder.maxTrackingId(this.projection.name);
      this.#position = after;
      const subscription = new Subscription<E>(this.source, this.mapper, {
        after,
        pageSize: this.pageSize,
        ...(this.projection.topics ? { topics: this.projection.topics } : {}),
        ...this.polling,
      });
      this.subscription = subscription;
      if (this.stopping) subscription.stop();
      void subscription.whenCaughtUp().then(() => {
        if (subscription.caughtUp) this.settleCaughtUp();
      });
      try {
        for await (const page of subscription.pages()) await this.processPage(page);
        return;
      } catch (error) {
        // A competing runner processed it first: go on after its checkpoint.
        if (error instanceof AlreadyProcessedError && error.applicationName === this.projection.name)
          continue;
        throw error;
      } finally {
        subscription.stop();
      }
    }
  }

  private async processPage(page: readonly SubscribedEvent<E>[]): Promise<void> {
    const name = this.projection.name;
    const tracking: Tracking[] = page.map(({ id }) => ({ applicationName: name, notificationId: id }));
    await this.recorder.processWithTracking(tracking, async (handle) => {
      for (const notification of page)
        await this.projection.process(notification.event, handle, notification);
    });
    this.#position = page[page.length - 1]!.id;
  }

  private settleCaughtUp(error?: unknown): void {
    if (error === undefined) this.#caughtUp = true;
    for (const waiter of this.caughtUpWaiters.splice(0)) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}
