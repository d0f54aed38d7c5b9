import type { DomainEvent } from './events.js';
import type { SequencedItemMapper } from './mapper.js';
import { type ApplicationRecorder, requireNotificationLog } from './recorders.js';
import { type Notification, type SequencedItem, notificationItem } from './sequenced-item.js';
import { ValidationError } from './errors.js';
import { readAhead } from './read-ahead.js';

/**
 * Reads the application-wide log in order, a page at a time. A follower keeps the id of the last
 * notification it processed (its checkpoint) and resumes after it.
 *
 * It takes only a store that keeps a log (an ApplicationRecorder): the compiler refuses a snapshot
 * table or a Cassandra strategy, and so does the constructor, with NotSupportedError, for JavaScript.
 */
export class NotificationLogReader {
  private readonly strategy: ApplicationRecorder<any>;

  constructor(
    strategy: ApplicationRecorder<any>,
    private readonly mapper?: SequencedItemMapper<any>,
  ) {
    this.strategy = requireNotificationLog(strategy, 'NotificationLogReader');
  }

  /** Every notification after `after` (a checkpoint; 0 from the start), in pages of `pageSize`. */
  async *read(options: { after?: number; pageSize?: number } = {}): AsyncIterable<Notification> {
    for await (const page of this.readPages(options)) yield* page;
  }

  /**
   * The same, a page at a time: a follower can process and checkpoint whole pages. A full page starts
   * the next page's read before it is handed over (see readAhead); each read starts after the last id
   * of the page before, so a row that commits late is never skipped.
   */
  async *readPages(options: { after?: number; pageSize?: number } = {}): AsyncIterable<Notification[]> {
    const { after = 0, pageSize = 1000 } = options;
    if (!Number.isSafeInteger(after) || after < 0)
      throw new ValidationError('after must be a non-negative integer', 'after');
    yield* readAhead<Notification>((previous) => {
      if (previous === undefined) return this.strategy.selectNotifications(after + 1, pageSize);
      if (previous.length < pageSize) return undefined;
      return this.strategy.selectNotifications(previous[previous.length - 1]!.id + 1, pageSize);
    });
  }

  /** The notifications decoded into domain events with their notification ids. */
  async *readEvents(
    options: { after?: number; pageSize?: number } = {},
  ): AsyncIterable<{ id: number; event: DomainEvent }> {
    for await (const page of this.readEventPages(options)) yield* page;
  }

  /** The same, a page at a time. */
  async *readEventPages(
    options: { after?: number; pageSize?: number } = {},
  ): AsyncIterable<{ id: number; event: DomainEvent }[]> {
    const mapper = this.mapper;
    if (!mapper) throw new ValidationError('readEvents needs a mapper', 'mapper');
    for await (const page of this.readPages(options)) yield decodePage(mapper, page);
  }

  maxNotificationId(): Promise<number> {
    return this.strategy.maxNotificationId();
  }
}

/**
 * A page's notifications as events with their ids, in a plain loop. A built-in strategy's notification
 * is its own sequenced item (NotificationItem), decoded as it is: no item copied from it per row.
 */
function decodePage(
  mapper: SequencedItemMapper<SequencedItem>,
  page: readonly Notification[],
): { id: number; event: DomainEvent }[] {
  const events = new Array<{ id: number; event: DomainEvent }>(page.length);
  for (let i = 0; i < page.length; i++) {
    const n = page[i]!;
    events[i] = { id: n.id, event: mapper.fromSequencedItem(notificationItem(n)) };
  }
  return events;
}
