import type { DomainEvent } from './events.js';
import type { SequencedItemMapper } from './mapper.js';
import { type ApplicationRecorder, requireNotificationLog } from './recorders.js';
import { type Notification, SequencedItem } from './sequenced-item.js';
import { ValidationError } from './errors.js';

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

  /** The same, a page at a time: a follower can process and checkpoint whole pages. */
  async *readPages(options: { after?: number; pageSize?: number } = {}): AsyncIterable<Notification[]> {
    const { after = 0, pageSize = 1000 } = options;
    if (!Number.isSafeInteger(after) || after < 0)
      throw new ValidationError('after must be a non-negative integer', 'after');
    let next = after + 1;
    while (true) {
      const page = await this.strategy.selectNotifications(next, pageSize);
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      next = page[page.length - 1]!.id + 1;
    }
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
    for await (const page of this.readPages(options)) {
      yield page.map(({ id, sequenceId, position, topic, data }) => ({
        id,
        event: mapper.fromSequencedItem(new SequencedItem(sequenceId, position, topic, data)),
      }));
    }
  }

  maxNotificationId(): Promise<number> {
    return this.strategy.maxNotificationId();
  }
}
