import { ValidationError } from './errors.js';
import type { DomainEvent } from './events.js';
import type { SequencedItemMapper } from './mapper.js';
import { type ApplicationRecorder, requireNotificationLog } from './recorders.js';
import { type Notification, notificationItem } from './sequenced-item.js';

/** One notification of the log, decoded: the domain event and its notification id (a follower's checkpoint). */
export interface SubscribedEvent<E = DomainEvent> {
  readonly id: number;
  readonly event: E;
  readonly notification: Notification;
}

export interface SubscriptionOptions {
  /** The checkpoint: the id of the last notification already processed (default 0, from the start). */
  after?: number;
  /** Only notifications of these topics (filtered in the store's query where it can). */
  topics?: readonly string[];
  /** Notifications read at once. Default 500. */
  pageSize?: number;
  /**
   * How long to wait for new notifications after a read found none, when no append in this process
   * says there are: the first wait, in ms. Default 100.
   */
  pollIntervalMs?: number;
  /** Each empty poll doubles the wait, up to this. Default 2,000 ms. */
  maxPollIntervalMs?: number;
  /** Stops the subscription: the iteration ends (after the read in flight, whose page is not yielded). */
  signal?: AbortSignal;
}

/**
 * A live subscription to an application's notification log (python eventsourcing's
 * ApplicationSubscription, KurrentDB's subscribeToAll from a checkpoint): it catches up from `after`,
 * then follows the log. A follower in the process that appended wakes at once (the store's `appended`
 * signal); otherwise it polls, waiting `pollIntervalMs`, doubled after each empty poll up to
 * `maxPollIntervalMs`.
 *
 * It needs only an ApplicationRecorder (`selectNotifications`, and `appended` when the store has one),
 * so any backend with a log plugs in. Each notification is yielded once, in id order: the reads start
 * after the last id yielded, and the stores give ids in commit order (a row that commits late never
 * gets a lower id than one already read). Errors (a read that fails, an event that cannot be decoded)
 * end the iteration by rethrowing them; the subscription never stops silently.
 *
 * `for await (const { id, event } of subscription)`, and stop it with `stop()`, the `signal` option,
 * `break`, or `await using`.
 */
export class Subscription<E = DomainEvent> implements AsyncIterable<SubscribedEvent<E>>, AsyncDisposable {
  private readonly recorder: ApplicationRecorder<any>;
  private readonly stopping = new AbortController();
  private readonly signal: AbortSignal;
  private readonly pageSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly topics: readonly string[] | undefined;
  private started = false;
  private running: Promise<unknown> = Promise.resolve();
  #position: number;
  #caughtUp = false;
  private readonly caughtUpWaiters: (() => void)[] = [];

  constructor(
    recorder: ApplicationRecorder<any>,
    private readonly mapper: SequencedItemMapper<any>,
    options: SubscriptionOptions = {},
  ) {
    this.recorder = requireNotificationLog(recorder, 'Subscription');
    const {
      after = 0,
      pageSize = 500,
      pollIntervalMs = 100,
      maxPollIntervalMs = Math.max(2000, pollIntervalMs),
    } = options;
    if (!Number.isSafeInteger(after) || after < 0)
      throw new ValidationError('after must be a non-negative integer', 'after');
    if (!Number.isSafeInteger(pageSize) || pageSize < 1)
      throw new ValidationError('pageSize must be a positive integer', 'pageSize');
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 0)
      throw new ValidationError('pollIntervalMs must be a non-negative number', 'pollIntervalMs');
    if (!Number.isFinite(maxPollIntervalMs) || maxPollIntervalMs < pollIntervalMs)
      throw new ValidationError('maxPollIntervalMs must be a number >= pollIntervalMs', 'maxPollIntervalMs');
    this.#position = after;
    this.pageSize = pageSize;
    this.pollIntervalMs = pollIntervalMs;
    this.maxPollIntervalMs = maxPollIntervalMs;
    this.topics = options.topics?.length ? [...options.topics] : undefined;
    this.signal =
      options.signal === undefined
        ? this.stopping.signal
        : AbortSignal.any([this.stopping.signal, options.signal]);
  }

  /** The id of the last notification yielded (or the starting checkpoint). */
  get position(): number {
    return this.#position;
  }

  /**
   * True once the subscriber has been given everything the log held when a read last reached its end;
   * it stays true while following live.
   */
  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  /** Resolves when `caughtUp` becomes true (at once if it is); also when the subscription stops before. */
  whenCaughtUp(): Promise<void> {
    if (this.#caughtUp || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve));
  }

  get stopped(): boolean {
    return this.signal.aborted;
  }

  /** Ends the iteration: a wait for new notifications ends at once, a read in flight is not yielded. */
  stop(): void {
    this.stopping.abort();
    this.markCaughtUp(false);
  }

  /** Stops, and waits for the read in flight to settle. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
    await this.running.catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SubscribedEvent<E>> {
    for await (const page of this.pages()) yield* page;
  }

  /**
   * The same, a page at a time (as many as one read found): a follower that processes a page in one
   * transaction. Iterated once only.
   */
  async *pages(): AsyncIterable<SubscribedEvent<E>[]> {
    if (this.started) throw new ValidationError('a subscription is iterated once', 'subscription');
    this.started = true;
    const appended = this.recorder.appended;
    let wait = this.pollIntervalMs;
    try {
      while (!this.signal.aborted) {
        // Noted before the read: an append that commits during it resolves the wait below at once.
        const seen = appended?.count ?? 0;
        const read = this.recorder.selectNotifications(this.#position + 1, this.pageSize, {
          ...(this.topics ? { topics: this.topics } : {}),
        });
        this.running = read;
        const page = await read;
        if (this.signal.aborted) return;
        if (page.length > 0) {
          const decoded = page.map((n) => this.decode(n));
          this.#position = page[page.length - 1]!.id;
          wait = this.pollIntervalMs;
          yield decoded;
          // Resumed by the subscriber: the page is processed. A store that answers synchronously
          // (SQLite in process) would otherwise keep the event loop to itself while catching up.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        if (page.length === this.pageSize) continue;
        this.markCaughtUp(true);
        if (page.length > 0) continue;
        const raised = await this.waitForAppend(appended, seen, wait);
        wait = raised ? this.pollIntervalMs : Math.min(this.maxPollIntervalMs, Math.max(1, wait * 2));
      }
    } finally {
      this.stopping.abort();
      this.markCaughtUp(false);
    }
  }

  private decode(n: Notification): SubscribedEvent<E> {
    const event = this.mapper.fromSequencedItem(notificationItem(n)) as E;
    return { id: n.id, event, notification: n };
  }

  private async waitForAppend(
    appended: ApplicationRecorder<any>['appended'],
    seen: number,
    timeoutMs: number,
  ): Promise<boolean> {
    if (appended !== undefined) return appended.wait(seen, { timeoutMs, signal: this.signal });
    const signal = this.signal;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
    });
    return false;
  }

  private markCaughtUp(caughtUp: boolean): void {
    if (caughtUp) this.#caughtUp = true;
    for (const resolve of this.caughtUpWaiters.splice(0)) resolve();
  }
}
