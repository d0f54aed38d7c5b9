import { ConcurrencyError } from './errors.js';
import {
  ActiveRecordStrategy,
  type ActiveRecordStrategyOptions,
  type NormalizedQuery,
} from './record-strategy.js';
import type { ApplicationRecorder } from './recorders.js';
import type { Notification, SequencedItem } from './sequenced-item.js';

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
 * await between the check and the write; the notification log is the order of appends.
 */
export class InMemoryActiveRecordStrategy<I = SequencedItem>
  extends ActiveRecordStrategy<I>
  implements ApplicationRecorder<I>
{
  readonly supportsNotifications = true;
  private readonly sequences = new Map<string, SequencedItem[]>();
  /** The log keeps the stored items themselves; a notification's id is its index + 1. */
  private readonly log: SequencedItem[] = [];

  constructor(options: ActiveRecordStrategyOptions<I> = {}) {
    super(options);
  }

  protected async insert(items: readonly SequencedItem[]): Promise<void> {
    const sequenceId = items[0]!.sequenceId;
    let stored = this.sequences.get(sequenceId);
    if (stored === undefined) {
      stored = [];
      this.sequences.set(sequenceId, stored);
    }
    const first = items[0]!.position;
    const last = items[items.length - 1]!.position;
    const at = lowerBound(stored, first, false);
    // Items are ascending, so the batch clashes exactly when some stored position lies in [first, last]
    // and equals one of the batch's positions.
    for (let i = at, j = 0; i < stored.length && stored[i]!.position <= last; i++) {
      const p = stored[i]!.position;
      while (j < items.length && items[j]!.position < p) j++;
      if (j < items.length && items[j]!.position === p) {
        throw new ConcurrencyError(`position ${p} of sequence ${sequenceId} is already taken`, sequenceId, p);
      }
    }
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

  protected async selectSequenceIds(): Promise<string[]> {
    return [...this.sequences.keys()];
  }

  async selectNotifications(start: number, limit: number): Promise<Notification[]> {
    this.validateNotificationRange(start, limit);
    const from = Math.max(start, 1) - 1;
    return this.log.slice(from, from + limit).map((item, i) => ({
      id: from + i + 1,
      sequenceId: item.sequenceId,
      position: item.position,
      topic: item.topic,
      data: item.data,
    }));
  }

  async maxNotificationId(): Promise<number> {
    return this.log.length;
  }
}
