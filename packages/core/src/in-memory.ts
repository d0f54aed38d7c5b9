import { AppendSignal } from './append-signal.js';
import { notNext, positionTaken, rejectSoon } from './conflicts.js';
import type { ConcurrencyError } from './errors.js';
import { InMemoryTracking } from './in-memory-tracking.js';
import {
  type ProcessAppends,
  type ProcessRecorder,
  validateTrackingList,
  validateTrackingName,
} from './process-recorder.js';
import {
  ActiveRecordStrategy,
  type ActiveRecordStrategyOptions,
  type NormalizedQuery,
} from './record-strategy.js';
import type { AggregateRecorder, NotificationQuery, SnapshotTail } from './recorders.js';
import { type Notification, NotificationItem, type SequencedItem } from './sequenced-item.js';
import type { Tracking } from './tracking.js';

/** Index of the first item whose position is >= (or > when `strict`) the given position. */
function lowerBound(items: readonly SequencedItem[], position: number, strict: boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = items[mid]!.position;
    if (p < position || (strict && p === position)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The reference backend: everything in process memory. Appends are atomic because they run without an
 * await between the check and the write; the notification log is the order of appends. It is a process
 * recorder whose transactions offer no handle (`undefined`): a read model in memory is the follower's
 * own objects, and the tracking records are kept here.
 */
export class InMemoryActiveRecordStrategy<I = SequencedItem>
  extends ActiveRecordStrategy<I>
  implements ProcessRecorder<I, undefined>
{
  readonly supportsNotifications = true;
  readonly supportsTracking = true;
  /** Its transactions cannot undo a follower's writes to its own objects. */
  readonly handleRollsBack = false;
  readonly appended = new AppendSignal();
  private readonly sequences = new Map<string, SequencedItem[]>();
  /** The log keeps the stored items themselves; a notification's id is its index + 1. */
  private readonly log: SequencedItem[] = [];
  private readonly tracking = new InMemoryTracking();

  constructor(options: ActiveRecordStrategyOptions<I> = {}) {
    super(options);
  }

  /** The check and the write run with no await between: no append is ever in flight here. */
  protected override get insertsAtOnce(): boolean {
    return true;
  }

  /**
   * Not `async`, and the conflict is not thrown: it is returned as a promise rejected once the caller
   * awaits it (rejectSoon), since a throw through async frames, or a rejection with no handler yet,
   * costs microseconds and racing writers meet conflicts all the time.
   */
  protected insert(items: readonly SequencedItem[]): Promise<void> {
    const conflict = this.conflictOf(items);
    if (conflict !== undefined) return rejectSoon(conflict);
    this.store(items);
    this.appended.raise();
    return Promise.resolve();
  }

  /** Throws the batch's conflict, if any (see conflictOf). */
  private check(items: readonly SequencedItem[], claimed?: Map<string, Set<number>>): void {
    const conflict = this.conflictOf(items, claimed);
    if (conflict !== undefined) throw conflict;
  }

  /**
   * The ConcurrencyError of a batch one of whose positions is taken, in the store or by an earlier batch
   * of the same transaction (`claimed`, which gains this batch's positions when there is none).
   */
  private conflictOf(
    items: readonly SequencedItem[],
    claimed?: Map<string, Set<number>>,
  ): ConcurrencyError | undefined {
    const sequenceId = items[0]!.sequenceId;
    const stored = this.sequences.get(sequenceId) ?? [];
    const first = items[0]!.position;
    const last = items[items.length - 1]!.position;
    if (this.contiguous) {
      // The batch's positions are consecutive (validated): it fits exactly when it starts at the head + 1.
      let head = stored.length === 0 ? -1 : stored[stored.length - 1]!.position;
      // An earlier batch of the same transaction moved the head (a loop: a spread of many positions
      // would overflow the stack).
      const earlier = claimed?.get(sequenceId);
      if (earlier !== undefined) for (const p of earlier) if (p > head) head = p;
      if (first <= head) return positionTaken(sequenceId, first);
      if (first !== head + 1) return notNext(sequenceId, first, head);
    }
    // Items are ascending, so the batch clashes exactly when some stored position lies in [first, last]
    // and equals one of the batch's positions.
    for (
      let i = lowerBound(stored, first, false), j = 0;
      i < stored.length && stored[i]!.position <= last;
      i++
    ) {
      const p = stored[i]!.position;
      while (j < items.length && items[j]!.position < p) j++;
      if (j < items.length && items[j]!.position === p) return positionTaken(sequenceId, p);
    }
    if (claimed === undefined) return undefined;
    let positions = claimed.get(sequenceId);
    if (positions === undefined) claimed.set(sequenceId, (positions = new Set()));
    for (const item of items)
      if (positions.has(item.position)) return positionTaken(sequenceId, item.position);
    for (const item of items) positions.add(item.position);
    return undefined;
  }

  /**
   * Stores a checked batch, keeping its sequence sorted, and logs it. The items are frozen: reads hand
   * out the stored objects themselves, so no reader can change what is stored, and a mapper may keep
   * the event it decoded from one (see SequencedItemMapper.fromSequencedItem).
   */
  private store(items: readonly SequencedItem[]): void {
    for (const item of items) Object.freeze(item);
    const sequenceId = items[0]!.sequenceId;
    let stored = this.sequences.get(sequenceId);
    if (stored === undefined) this.sequences.set(sequenceId, (stored = []));
    const at = lowerBound(stored, items[0]!.position, false);
    const last = items[items.length - 1]!.position;
    if (at === stored.length) stored.push(...items);
    else if (lowerBound(stored, last, true) === at) stored.splice(at, 0, ...items);
    else {
      // Timestamp positions may interleave with stored ones: merge, keeping the sequence sorted.
      stored.push(...items);
      stored.sort((a, b) => a.position - b.position);
    }
    for (const item of items) {
      this.log.push(item);
    }
  }

  protected async select(sequenceId: string, q: NormalizedQuery): Promise<SequencedItem[]> {
    const stored = this.sequences.get(sequenceId);
    if (stored === undefined) return [];
    const start = lowerBound(stored, q.lower, !q.lowerInclusive);
    const end = lowerBound(stored, q.upper, q.upperInclusive);
    if (end <= start) return [];
    if (!q.descending)
      return stored.slice(start, q.limit === undefined ? end : Math.min(end, start + q.limit));
    const from = q.limit === undefined ? start : Math.max(start, end - q.limit);
    return stored.slice(from, end).reverse();
  }

  /** Another in-memory strategy's snapshots: read in the same turn as the events, so from one state. */
  override readsSnapshotsOf(snapshots: AggregateRecorder<unknown>): boolean {
    return (
      snapshots instanceof InMemoryActiveRecordStrategy &&
      this.positionKind === 'integer' &&
      snapshots.positionKind === 'integer' &&
      snapshots.sequenceIdKind === this.sequenceIdKind
    );
  }

  protected override selectSnapshotTail(
    snapshots: InMemoryActiveRecordStrategy<unknown>,
    sequenceId: string,
    snapshotUpper: number,
    eventsUpper: number,
    limit: number,
  ): Promise<SnapshotTail<SequencedItem>> {
    const kept = snapshots.sequences.get(sequenceId);
    const newest = kept === undefined ? 0 : lowerBound(kept, snapshotUpper, true);
    const snapshot = newest > 0 ? kept![newest - 1] : undefined;
    const stored = this.sequences.get(sequenceId) ?? [];
    const start = snapshot === undefined ? 0 : lowerBound(stored, snapshot.position, false);
    const end = Math.min(lowerBound(stored, eventsUpper, true), start + limit);
    return Promise.resolve({ snapshot, events: end > start ? stored.slice(start, end) : [] });
  }

  protected async selectSequenceIds(): Promise<string[]> {
    return [...this.sequences.keys()];
  }

  async selectNotifications(
    start: number,
    limit: number,
    query: NotificationQuery = {},
  ): Promise<Notification[]> {
    this.validateNotificationRange(start, limit);
    const topics = query.topics?.length ? new Set(query.topics) : undefined;
    const notifications: Notification[] = [];
    for (let i = Math.max(start, 1) - 1; i < this.log.length && notifications.length < limit; i++) {
      const item = this.log[i]!;
      if (topics !== undefined && !topics.has(item.topic)) continue;
      notifications.push(new NotificationItem(i + 1, item.sequenceId, item.position, item.topic, item.data));
    }
    return notifications;
  }

  async maxNotificationId(): Promise<number> {
    return this.log.length;
  }

  async maxTrackingId(applicationName: string): Promise<number> {
    return this.tracking.max(applicationName);
  }

  async processWithTracking<T>(
    tracking: Tracking | readonly Tracking[],
    run: (handle: undefined) => Promise<T> | T,
    options: ProcessAppends<I> = {},
  ): Promise<T> {
    const records = validateTrackingList(tracking);
    const batches = (options.append ?? []).map((batch) =>
      this.validateBatch(batch.map((item) => this.shape.toCanonical(item))),
    );
    const result = await this.tracking.exclusive(async () => {
      this.tracking.check(records);
      const result = await run(undefined);
      // Every batch is checked before any is stored, with no await in between: all or none.
      const claimed = new Map<string, Set<number>>();
      for (const batch of batches) this.check(batch, claimed);
      for (const batch of batches) this.store(batch);
      this.tracking.record(records);
      return result;
    });
    if (batches.length > 0) this.appended.raise();
    return result;
  }

  async deleteTracking(
    applicationName: string,
    run?: (handle: undefined) => Promise<void> | void,
  ): Promise<void> {
    const name = validateTrackingName(applicationName);
    await this.tracking.exclusive(async () => {
      await run?.(undefined);
      this.tracking.delete(name);
    });
  }
}
