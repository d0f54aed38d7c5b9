import { type DomainEvent, sealEvent } from './events.js';
import type { SequencedItemMapper } from './mapper.js';
import { OrderedWrites } from './ordered-writes.js';
import type { AggregateRecorder, ItemQuery } from './recorders.js';
import { checkPageSize } from './record-strategy.js';
import type { SequencedItem } from './sequenced-item.js';

const SETTLED = Promise.resolve();

export interface EventStoreOptions<I = SequencedItem> {
  activeRecordStrategy: AggregateRecorder<I>;
  sequencedItemMapper: SequencedItemMapper<I>;
}

/**
 * Stores and retrieves domain events, through a mapper and an active record strategy. Every read of a
 * sequence first waits for that sequence's queued writes (see `enqueue`) and surfaces their failure.
 */
export class EventStore<E extends DomainEvent = DomainEvent, I = SequencedItem> {
  readonly activeRecordStrategy: AggregateRecorder<I>;
  readonly sequencedItemMapper: SequencedItemMapper<I>;
  private readonly writes = new OrderedWrites();

  constructor(options: EventStoreOptions<I>) {
    this.activeRecordStrategy = options.activeRecordStrategy;
    this.sequencedItemMapper = options.sequencedItemMapper;
  }

  /**
   * Appends events of one sequence atomically. Rejects with ConcurrencyError if a position is taken.
   * Not `async`, like ActiveRecordStrategy.append: with nothing queued it returns the strategy's own
   * promise, so that a conflict is not rethrown once more on its way back; bad events still reject.
   */
  append(events: E | readonly E[]): Promise<void> {
    try {
      const list = Array.isArray(events) ? (events as readonly E[]) : [events as E];
      const items = list.map((event) => this.sequencedItemMapper.toSequencedItem(sealEvent(event)));
      // Land after the writes already queued for this sequence (and report their failure first).
      if (list.length > 0 && this.writes.size > 0) return this.appendAfter(this.keyOf(list[0]!), items);
      return this.activeRecordStrategy.append(items);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async appendAfter(key: string, items: readonly I[]): Promise<void> {
    await this.writes.settle(key);
    await this.activeRecordStrategy.append(items);
  }

  /**
   * Appends in the background, after earlier queued appends of the same sequence. The mapping runs
   * now, so bad events throw here; a failed write is reported by the next read, `flush` or `close`.
   */
  enqueue(events: E | readonly E[]): void {
    const list = Array.isArray(events) ? (events as readonly E[]) : [events as E];
    if (list.length === 0) return;
    const items = list.map((event) => this.sequencedItemMapper.toSequencedItem(sealEvent(event)));
    const key = this.keyOf(list[0]!);
    this.writes.enqueue(key, () => this.activeRecordStrategy.append(items));
  }

  /** Waits for queued writes (of one sequence, or all) and rethrows a failure among them. */
  flush(sequenceId?: string): Promise<void> {
    // Nothing queued (every load from a snapshot asks): no async call, and no key made.
    if (this.writes.isIdle) return SETTLED;
    return sequenceId === undefined ? this.writes.settleAll() : this.writes.settle(this.keyFor(sequenceId));
  }

  /**
   * What a read waits for first: the sequence's queued writes and their failure. With nothing queued
   * or failed (the common case) there is nothing to wait for, and no promise is made.
   */
  private settle(sequenceId: string): Promise<void> | undefined {
    return this.writes.isIdle ? undefined : this.writes.settle(this.keyFor(sequenceId));
  }

  async getDomainEvents(sequenceId: string, query: ItemQuery = {}): Promise<E[]> {
    const queued = this.settle(sequenceId);
    if (queued !== undefined) await queued;
    return decodeAll<E, I>(
      this.sequencedItemMapper,
      await this.activeRecordStrategy.getItems(sequenceId, query),
    );
  }

  /** The events of a sequence, read page by page: for streams too long to hold at once. */
  async *iterateDomainEvents(
    sequenceId: string,
    query: ItemQuery & { pageSize?: number } = {},
  ): AsyncIterable<E> {
    for await (const page of this.iterateDomainEventPages(sequenceId, query)) yield* page;
  }

  /** The same, a page at a time: replaying a page needs no await per event. */
  async *iterateDomainEventPages(
    sequenceId: string,
    query: ItemQuery & { pageSize?: number } = {},
  ): AsyncIterable<E[]> {
    const queued = this.settle(sequenceId);
    if (queued !== undefined) await queued;
    const mapper = this.sequencedItemMapper;
    for await (const page of this.activeRecordStrategy.iteratePages(sequenceId, query)) {
      yield decodeAll<E, I>(mapper, page);
    }
  }

  /**
   * Hands the events of a sequence (ascending, in the range) to `replay` a page at a time, and resolves
   * once every page is replayed: how a repository rebuilds an entity. The first page is one plain read,
   * with no async iterator around it: a short sequence, or what follows a snapshot, is all on it. Only
   * a full first page goes on page by page (iterateDomainEventPages, after its last event), and that
   * read starts before `replay` gets the first page, so that the database works while `replay` does.
   * `firstPage`, when given, is that first page already read (with a snapshot: see
   * SnapshotStrategy.getSnapshotAndEvents): the range's first `pageSize` events, ascending.
   */
  async replayDomainEvents(
    sequenceId: string,
    query: Pick<ItemQuery, 'gt' | 'gte' | 'lt' | 'lte'> & { pageSize: number },
    replay: (events: E[]) => void,
    firstPage?: E[],
  ): Promise<void> {
    const { gt, gte, lt, lte, pageSize } = query;
    checkPageSize(pageSize);
    const first =
      firstPage ?? (await this.getDomainEvents(sequenceId, { gt, gte, lt, lte, limit: pageSize }));
    if (first.length < pageSize) {
      if (first.length > 0) replay(first);
      return;
    }
    const last = (first[pageSize - 1] as unknown as Record<string, number>)[
      this.sequencedItemMapper.positionAttrName
    ]!;
    const rest = this.iterateDomainEventPages(sequenceId, { gt: last, lt, lte, pageSize })[
      Symbol.asyncIterator
    ]();
    const second = rest.next();
    // Awaited below; handled now, so that its failure is not unhandled when `replay` throws first. A
    // `replay` that throws leaves the pages unread (their reads ahead are handled where they are made).
    second.catch(() => {});
    replay(first);
    for (let page = await second; page.done !== true; page = await rest.next()) replay(page.value);
  }

  async getDomainEvent(sequenceId: string, position: number): Promise<E> {
    const queued = this.settle(sequenceId);
    if (queued !== undefined) await queued;
    const item = await this.activeRecordStrategy.getItem(sequenceId, position);
    return this.sequencedItemMapper.fromSequencedItem(item) as E;
  }

  /** The newest event of a sequence (below `lt`/`lte` when given), or undefined. */
  async getMostRecentEvent(
    sequenceId: string,
    query: Pick<ItemQuery, 'lt' | 'lte'> = {},
  ): Promise<E | undefined> {
    const events = await this.getDomainEvents(sequenceId, {
      lt: query.lt,
      lte: query.lte,
      descending: true,
      limit: 1,
    });
    return events[0];
  }

  listSequenceIds(): Promise<string[]> {
    return this.activeRecordStrategy.listSequenceIds();
  }

  /** Waits for queued writes, rethrowing a failure. The strategy stays open: its owner closes it. */
  close(): Promise<void> {
    return this.flush();
  }

  private keyOf(event: E): string {
    const key = (event as unknown as Record<string, unknown>)[this.sequencedItemMapper.sequenceIdAttrName];
    return this.keyFor(String(key));
  }

  /** The strategy stores UUIDs in lower case: queue and wait under that key, whatever case was used. */
  private keyFor(sequenceId: string): string {
    return this.activeRecordStrategy.sequenceIdKind === 'uuid' ? sequenceId.toLowerCase() : sequenceId;
  }
}

/** Items decoded into events, in a plain loop (no closure per page, an array of the page's length). */
function decodeAll<E extends DomainEvent, I>(mapper: SequencedItemMapper<I>, items: readonly I[]): E[] {
  const events = new Array<E>(items.length);
  for (let i = 0; i < items.length; i++) events[i] = mapper.fromSequencedItem(items[i]!) as E;
  return events;
}
