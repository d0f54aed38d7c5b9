import { NotFoundError, NotSupportedError, ValidationError } from './errors.js';
import type {
  AggregateRecorder,
  ItemQuery,
  PositionKind,
  SequenceIdKind,
  SnapshotTail,
  SnapshotTailQuery,
  SnapshotTailRecorder,
} from './recorders.js';
import { AppendTurns } from './append-turns.js';
import {
  checkBound,
  inRange,
  isEmptyRange,
  normalizeQuery,
  type NormalizedQuery,
} from './normalized-query.js';
import { readAhead } from './read-ahead.js';
import { ItemShape, SequencedItem, type SequencedItemClass } from './sequenced-item.js';
import { describeValue, hasLoneSurrogate, isUuid, validateName } from './validation.js';

export interface ActiveRecordStrategyOptions<I = SequencedItem> {
  /** The class of the items this strategy accepts and returns (the seed's `sequenced_item_class`). */
  sequencedItemClass?: SequencedItemClass<I>;
  positionKind?: PositionKind;
  sequenceIdKind?: SequenceIdKind;
  /** Largest `data` accepted, in UTF-8 bytes. Default 1 MiB. */
  maxItemBytes?: number;
  /** Most items in one append. Default 10,000. */
  maxBatchSize?: number;
  /**
   * Items per page of a long read when the caller names none (`iteratePages`, and so a repository's
   * replay). Default 1,000; SQL strategies 5,000 (each page is a statement).
   */
  pageSize?: number;
  /**
   * Integer sequences only: an append must start exactly one past the sequence's last position (at 0
   * on an empty one), checked atomically with the write. Default true for integer positions: versions
   * then have no gaps, and a writer whose earlier write was lost cannot build on it. False for stores
   * whose integer positions have gaps by design (snapshots at entity versions).
   */
  contiguous?: boolean;
}

export { inRange, isEmptyRange, type NormalizedQuery };

export const MAX_TOPIC_LENGTH = 255;
export const MAX_SEQUENCE_ID_LENGTH = 255;

/**
 * The seed's active record strategy: the shared half of every backend (input validation, item-class
 * conversion and paging). A backend extends it and implements the protected `insert`, `select` and
 * `selectSequenceIds`, which receive only validated, canonical input; that makes it an
 * AggregateRecorder. A backend that keeps a notification log also implements ApplicationRecorder:
 * `supportsNotifications = true`, `selectNotifications` (checking its arguments with
 * `validateNotificationRange`) and `maxNotificationId`.
 */
export abstract class ActiveRecordStrategy<I = SequencedItem> implements SnapshotTailRecorder<I> {
  readonly positionKind: PositionKind;
  readonly sequenceIdKind: SequenceIdKind;
  readonly maxItemBytes: number;
  readonly maxBatchSize: number;
  readonly pageSize: number;
  /** True when appends must continue their sequence with no gap (see the option). */
  readonly contiguous: boolean;
  protected readonly shape: ItemShape<I>;
  /** Appends of one process to a contiguous sequence wait for one in flight before them (append-turns.ts). */
  private turns: AppendTurns | undefined;

  constructor(options: ActiveRecordStrategyOptions<I> = {}) {
    this.shape = new ItemShape(
      options.sequencedItemClass ?? (SequencedItem as unknown as SequencedItemClass<I>),
    );
    this.positionKind = options.positionKind ?? 'integer';
    this.sequenceIdKind = options.sequenceIdKind ?? 'uuid';
    this.maxItemBytes = options.maxItemBytes ?? 1024 * 1024;
    this.maxBatchSize = options.maxBatchSize ?? 10_000;
    this.pageSize = options.pageSize ?? 1000;
    checkPageSize(this.pageSize);
    this.contiguous = this.positionKind === 'integer' && (options.contiguous ?? true);
    ActiveRecordStrategy.setAppendTurns(this, true);
    if (!Number.isSafeInteger(this.maxItemBytes) || this.maxItemBytes < 1) {
      throw new ValidationError('maxItemBytes must be a positive integer', 'maxItemBytes');
    }
    if (!Number.isSafeInteger(this.maxBatchSize) || this.maxBatchSize < 1) {
      throw new ValidationError('maxBatchSize must be a positive integer', 'maxBatchSize');
    }
  }

  /**
   * Turns a strategy's append turns (append-turns.ts) on, as they are by default, or off: then every
   * append reaches its store, even one certain to fail. Off is for tests of a store's own conflict check
   * (the conformance suite's racing writers, which would otherwise be decided in process). A store that
   * is not an ActiveRecordStrategy is returned as it is.
   */
  static setAppendTurns<S>(strategy: S, on: boolean): S {
    if (strategy instanceof ActiveRecordStrategy)
      strategy.turns =
        on && strategy.contiguous && !strategy.insertsAtOnce
          ? new AppendTurns((items) => strategy.insert(items))
          : undefined;
    return strategy;
  }

  /**
   * True when `insert` decides before it returns (checks and writes with no await between, as in memory):
   * then no append is ever in flight, and appends need not wait their turn.
   */
  protected get insertsAtOnce(): boolean {
    return false;
  }

  /** Inserts validated items of one sequence atomically; throws ConcurrencyError on a taken position. */
  protected abstract insert(items: readonly SequencedItem[]): Promise<void>;
  /** The items of a sequence in a validated range, in a new array (it is handed to the caller as it is). */
  protected abstract select(sequenceId: string, query: NormalizedQuery): Promise<SequencedItem[]>;
  protected abstract selectSequenceIds(): Promise<string[]>;

  /**
   * Not `async`: the backend's promise is returned as it is. Each async layer a refusal passes through
   * rethrows it and makes a promise; a conflict is the common outcome of racing writers, so it takes the
   * shortest way back. Bad input is still a rejection, never a synchronous throw.
   */
  append(items: I | readonly I[]): Promise<void> {
    try {
      const list = Array.isArray(items) ? (items as readonly I[]) : [items as I];
      const valid = this.validateBatch(list.map((item) => this.shape.toCanonical(item)));
      return this.turns === undefined ? this.insert(valid) : this.turns.append(valid);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async getItem(sequenceId: string, position: number): Promise<I> {
    const id = this.validateSequenceId(sequenceId);
    this.validatePosition(position, 'position');
    const [item] = await this.select(id, {
      lower: position,
      lowerInclusive: true,
      upper: position,
      upperInclusive: true,
      limit: 1,
      descending: false,
    });
    if (item === undefined) throw new NotFoundError(`no item at position ${position} of sequence ${id}`, id);
    return this.shape.fromCanonical(item);
  }

  /** Not `async`: with the default item class the backend's promise is returned as it is. */
  getItems(sequenceId: string, query: ItemQuery = {}): Promise<I[]> {
    let id: string;
    let q: NormalizedQuery;
    try {
      id = this.validateSequenceId(sequenceId);
      q = this.normalizeQuery(query);
    } catch (error) {
      return Promise.reject(error);
    }
    if (isEmptyRange(q)) return Promise.resolve([]);
    const items = this.select(id, q);
    return this.shape.itemClass === (SequencedItem as unknown)
      ? (items as Promise<I[]>)
      : items.then((list) => this.shape.fromCanonicalList(list));
  }

  async *iterateItems(sequenceId: string, query: ItemQuery & { pageSize?: number } = {}): AsyncIterable<I> {
    for await (const page of this.iteratePages(sequenceId, query)) yield* page;
  }

  /** The items a page at a time, each page's read started before the page before it is handed over. */
  async *iteratePages(sequenceId: string, query: ItemQuery & { pageSize?: number } = {}): AsyncIterable<I[]> {
    const id = this.validateSequenceId(sequenceId);
    const pageSize = query.pageSize ?? this.pageSize;
    checkPageSize(pageSize);
    const q = this.normalizeQuery(query);
    if (isEmptyRange(q)) return;
    let remaining = q.limit ?? Infinity;
    // Each page's query is a new literal: `{ ...q, limit }` costs microseconds per object on Node 20.
    let { lower, lowerInclusive, upper, upperInclusive } = q;
    const descending = q.descending;
    const pages = readAhead<SequencedItem>((previous) => {
      if (previous !== undefined) {
        remaining -= previous.length;
        if (previous.length < pageSize || remaining <= 0) return undefined;
        const last = previous[previous.length - 1]!.position;
        if (descending) {
          upper = last;
          upperInclusive = false;
        } else {
          lower = last;
          lowerInclusive = false;
        }
      }
      const limit = Math.min(pageSize, remaining);
      return this.select(id, { lower, lowerInclusive, upper, upperInclusive, limit, descending });
    });
    for await (const page of pages) yield this.shape.fromCanonicalList(page);
  }

  listSequenceIds(): Promise<string[]> {
    return this.selectSequenceIds();
  }

  /**
   * True when this strategy reads the snapshots of `snapshots` with its own items (see
   * SnapshotTailRecorder): a backend that can overrides it, with `selectSnapshotTail`. Never for
   * timestamp positions: an unversioned entity's events follow its last one's timestamp, not its
   * snapshot's position.
   */
  readsSnapshotsOf(_snapshots: AggregateRecorder<unknown>): boolean {
    return false;
  }

  /** Not `async`, as getItems: the backend's promise goes back as it is with the default item class. */
  getSnapshotTail(
    snapshots: AggregateRecorder<unknown>,
    sequenceId: string,
    query: SnapshotTailQuery,
  ): Promise<SnapshotTail<I>> {
    let id: string;
    let snapshotUpper: number;
    let eventsUpper: number;
    try {
      if (!this.readsSnapshotsOf(snapshots)) {
        throw new NotSupportedError(
          `${this.constructor.name} does not read the snapshots of ${(snapshots as object)?.constructor?.name} with its events: read them one after the other`,
        );
      }
      id = this.validateSequenceId(sequenceId);
      const { snapshotLte, eventsLt, limit } = query;
      checkBound('snapshotLte', snapshotLte);
      checkBound('eventsLt', eventsLt);
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new ValidationError('limit must be a positive integer', 'limit');
      // Integer positions (readsSnapshotsOf holds only for them): inclusive integer bounds, -1 for none;
      // a bound past every safe integer is no bound (as for getItems: a position is a safe integer).
      snapshotUpper =
        snapshotLte === undefined || snapshotLte >= Number.MAX_SAFE_INTEGER
          ? Infinity
          : Math.max(-1, Math.floor(snapshotLte));
      eventsUpper =
        eventsLt === undefined || eventsLt > Number.MAX_SAFE_INTEGER
          ? Infinity
          : Math.max(-1, Math.ceil(eventsLt) - 1);
    } catch (error) {
      return Promise.reject(error);
    }
    const read = this.selectSnapshotTail(
      snapshots as ActiveRecordStrategy<unknown>,
      id,
      snapshotUpper,
      eventsUpper,
      query.limit,
    );
    const snapshotShape = (snapshots as ActiveRecordStrategy<SequencedItem>).shape;
    if (
      this.shape.itemClass === (SequencedItem as unknown) &&
      snapshotShape.itemClass === (SequencedItem as unknown)
    )
      return read as Promise<SnapshotTail<I>>;
    return read.then(({ snapshot, events }) => ({
      snapshot: snapshot === undefined ? undefined : snapshotShape.fromCanonical(snapshot),
      events: this.shape.fromCanonicalList(events),
    }));
  }

  /**
   * The backend's half of getSnapshotTail, over validated input: the newest item of `snapshots` (a
   * strategy `readsSnapshotsOf` accepted) at or below `snapshotUpper`, and the first `limit` items of
   * this store from its position on (from the start without one) and at or below `eventsUpper` (each
   * bound an integer, or Infinity for none), both from one state of the store.
   */
  protected selectSnapshotTail(
    _snapshots: ActiveRecordStrategy<unknown>,
    _sequenceId: string,
    _snapshotUpper: number,
    _eventsUpper: number,
    _limit: number,
  ): Promise<SnapshotTail<SequencedItem>> {
    return Promise.reject(new NotSupportedError(`${this.constructor.name} has no selectSnapshotTail`));
  }

  async close(): Promise<void> {}

  // --- validation: every check runs before anything is written ---

  protected validateBatch(items: readonly SequencedItem[]): SequencedItem[] {
    if (items.length === 0) throw new ValidationError('cannot append an empty batch', 'items');
    if (items.length > this.maxBatchSize) {
      throw new ValidationError(
        `a batch holds at most ${this.maxBatchSize} items, got ${items.length}`,
        'items',
      );
    }
    const out: SequencedItem[] = new Array(items.length);
    let sequenceId: string | undefined;
    let rawSequenceId: unknown;
    let previous = -Infinity;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item === null || typeof item !== 'object')
        throw new ValidationError(`item ${i} is not a sequenced item`, 'items');
      // Items of a batch usually carry the very same id string: check it once.
      const id =
        sequenceId !== undefined && item.sequenceId === rawSequenceId
          ? sequenceId
          : this.validateSequenceId(item.sequenceId);
      if (sequenceId === undefined) {
        sequenceId = id;
        rawSequenceId = item.sequenceId;
      } else if (id !== sequenceId) {
        throw new ValidationError(
          'a batch must hold the items of one sequence (atomic appends are per sequence)',
          'sequenceId',
        );
      }
      this.validatePosition(item.position, 'position');
      if (item.position <= previous) {
        throw new ValidationError('positions in a batch must be strictly ascending', 'position');
      }
      if (this.positionKind === 'integer' && i > 0 && item.position !== previous + 1) {
        throw new ValidationError('positions in a batch must be consecutive', 'position');
      }
      previous = item.position;
      // The same for the topic: a batch's events often share one.
      if (i === 0 || item.topic !== items[i - 1]!.topic) this.validateTopic(item.topic);
      this.validateData(item.data);
      out[i] =
        item instanceof SequencedItem && id === item.sequenceId
          ? item
          : new SequencedItem(id, item.position, item.topic, item.data);
    }
    return out;
  }

  /** The arguments of `selectNotifications`, for backends that keep a notification log. */
  protected validateNotificationRange(start: unknown, limit: unknown): void {
    if (!Number.isSafeInteger(start) || (start as number) < 0)
      throw new ValidationError('start must be a non-negative integer', 'start');
    if (!Number.isSafeInteger(limit) || (limit as number) < 1)
      throw new ValidationError('limit must be a positive integer', 'limit');
  }

  protected validateSequenceId(sequenceId: unknown): string {
    if (this.sequenceIdKind === 'uuid') {
      if (!isUuid(sequenceId))
        throw new ValidationError(
          `sequence id must be a UUID, got ${JSON.stringify(sequenceId)}`,
          'sequenceId',
        );
      return sequenceId.toLowerCase();
    }
    return validateName(sequenceId, 'sequenceId', 'sequence id', MAX_SEQUENCE_ID_LENGTH);
  }

  protected validatePosition(position: unknown, field: string): asserts position is number {
    const ok =
      this.positionKind === 'integer'
        ? Number.isSafeInteger(position) && (position as number) >= 0
        : typeof position === 'number' && Number.isFinite(position) && position >= 0;
    if (!ok) {
      const what =
        this.positionKind === 'integer' ? 'a non-negative integer' : 'a non-negative finite number';
      throw new ValidationError(`${field} must be ${what}, got ${describeValue(position)}`, field);
    }
  }

  protected validateTopic(topic: unknown): void {
    validateName(topic, 'topic', 'topic', MAX_TOPIC_LENGTH);
  }

  protected validateData(data: unknown): void {
    if (typeof data !== 'string') throw new ValidationError('data must be a string', 'data');
    // A UTF-16 code unit is at most 3 UTF-8 bytes: only long strings need their bytes counted.
    if (data.length * 3 > this.maxItemBytes && Buffer.byteLength(data, 'utf8') > this.maxItemBytes) {
      throw new ValidationError(`data is larger than ${this.maxItemBytes} bytes`, 'data');
    }
    if (data.includes('\0')) throw new ValidationError('data must not contain NUL characters', 'data');
    // The JSON transcoder escapes lone surrogates (\ud800): only a transcoder of the user's, or raw
    // items, can bring one here.
    if (hasLoneSurrogate(data))
      throw new ValidationError(
        'data must not contain lone UTF-16 surrogates (it has no UTF-8 form)',
        'data',
      );
  }

  protected normalizeQuery(query: ItemQuery): NormalizedQuery {
    return normalizeQuery(query);
  }
}

/** A ValidationError unless `pageSize` is a positive integer. */
export function checkPageSize(pageSize: unknown): void {
  if (!Number.isSafeInteger(pageSize) || (pageSize as number) < 1)
    throw new ValidationError('pageSize must be a positive integer', 'pageSize');
}
