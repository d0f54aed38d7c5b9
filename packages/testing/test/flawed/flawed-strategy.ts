import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import {
  type ApplicationRecorder,
  ConcurrencyError,
  type Notification,
  type NotificationQuery,
  SequencedItem,
} from '@es/core';
import {
  ActiveRecordStrategy,
  type ActiveRecordStrategyOptions,
  type NormalizedQuery,
  inRange,
  selectMatching,
} from '@es/core/backend';

/** The mistakes a backend could make, one at a time, to show that the suite notices each. */
export const FLAWS = [
  'none',
  'non-atomic batches', // writes item by item and stops at the first taken position
  'no conflict check', // overwrites taken positions
  'trims data',
  'positions as strings',
  'timestamps rounded to milliseconds',
  'descending limit takes the oldest',
  'duplicate sequence ids',
  'interleaved notification ids', // concurrent batches get mixed ids
  'ids visible out of order', // ids assigned before commit, visible at commit: followers skip some
  'max id is the count', // ids with gaps, maxNotificationId = their count
  'rejected batches are logged', // a conflicting batch still reaches the notification log
  'gaps accepted', // an integer append may skip positions (the store declares contiguous: true)
  'sequence ids folded to lower case', // string ids compared case-insensitively
  'sequence ids trimmed', // string ids compared without trailing spaces (a PAD SPACE collation)
  'topics ignored', // selectNotifications returns every topic, whatever the filter
] as const;
export type Flaw = (typeof FLAWS)[number];

/**
 * A small store that is correct unless told to make one mistake. It keeps integer sequences contiguous
 * from 0, as Cassandra's does.
 */
export class FlawedStrategy extends ActiveRecordStrategy implements ApplicationRecorder {
  readonly supportsNotifications = true;
  private readonly sequences = new Map<string, Map<number, SequencedItem>>();
  private readonly log: Notification[] = [];
  private nextId = 1;

  constructor(
    private readonly flaw: Flaw,
    options: ActiveRecordStrategyOptions = {},
  ) {
    super(options);
  }

  protected async insert(items: readonly SequencedItem[]): Promise<void> {
    const sequenceId = items[0]!.sequenceId;
    const stored = this.sequences.get(this.key(sequenceId)) ?? new Map<number, SequencedItem>();
    const taken = items.find((i) => stored.has(this.keep(i).position));
    if (!taken && this.positionKind === 'integer' && this.flaw !== 'gaps accepted') {
      const next = stored.size === 0 ? 0 : Math.max(...stored.keys()) + 1;
      if (items[0]!.position !== next) throw new ConcurrencyError('gap', sequenceId, items[0]!.position);
    }
    this.sequences.set(this.key(sequenceId), stored);
    if (this.flaw === 'non-atomic batches') {
      for (const i of items) {
        if (stored.has(i.position)) throw new ConcurrencyError('taken', sequenceId, i.position);
        stored.set(i.position, i);
        this.logged([i]);
      }
      return;
    }
    if (taken && this.flaw === 'rejected batches are logged') this.logged(items);
    if (taken && this.flaw !== 'no conflict check')
      throw new ConcurrencyError('taken', sequenceId, taken.position);
    for (const i of items) stored.set(this.keep(i).position, this.keep(i));
    if (this.flaw === 'interleaved notification ids') {
      for (const i of items) {
        this.logged([i]);
        await nextTurn();
      }
    } else if (this.flaw === 'ids visible out of order') {
      const ids = items.map(() => this.nextId++);
      await sleep(Math.random() * 3);
      this.log.push(...items.map((i, n) => ({ id: ids[n]!, ...fieldsOf(i) })));
      this.log.sort((a, b) => a.id - b.id);
    } else this.logged(items);
  }

  private key(sequenceId: string): string {
    if (this.flaw === 'sequence ids folded to lower case') return sequenceId.toLowerCase();
    if (this.flaw === 'sequence ids trimmed') return sequenceId.replace(/ +$/, '');
    return sequenceId;
  }

  private keep(i: SequencedItem): SequencedItem {
    if (this.flaw === 'trims data')
      return new SequencedItem(i.sequenceId, i.position, i.topic, i.data.trim());
    if (this.flaw === 'timestamps rounded to milliseconds')
      return new SequencedItem(i.sequenceId, Math.round(i.position), i.topic, i.data);
    return i;
  }

  private logged(items: readonly SequencedItem[]): void {
    for (const i of items) {
      this.log.push({ id: this.nextId, ...fieldsOf(i) });
      this.nextId += this.flaw === 'max id is the count' ? 2 : 1;
    }
  }

  protected async select(sequenceId: string, q: NormalizedQuery): Promise<SequencedItem[]> {
    const all = [...(this.sequences.get(this.key(sequenceId))?.values() ?? [])].filter((i) =>
      inRange(i.position, q),
    );
    all.sort((a, b) => a.position - b.position);
    let out: SequencedItem[];
    if (!q.descending) out = all.slice(0, q.limit ?? all.length);
    else if (this.flaw === 'descending limit takes the oldest')
      out = all.slice(0, q.limit ?? all.length).reverse();
    else out = all.reverse().slice(0, q.limit ?? all.length);
    if (this.flaw === 'positions as strings') {
      return out.map(
        (i) => new SequencedItem(i.sequenceId, String(i.position) as unknown as number, i.topic, i.data),
      );
    }
    return out;
  }

  protected async selectSequenceIds(): Promise<string[]> {
    const ids = [...this.sequences.keys()];
    return this.flaw === 'duplicate sequence ids' ? [...ids, ...ids] : ids;
  }

  async selectNotifications(
    start: number,
    limit: number,
    query?: NotificationQuery,
  ): Promise<Notification[]> {
    this.validateNotificationRange(start, limit);
    const select = async (from: number, count: number) =>
      this.log.filter((n) => n.id >= from).slice(0, count);
    // A store that cannot filter in its query filters what it read (core's selectMatching).
    return this.flaw === 'topics ignored'
      ? select(start, limit)
      : selectMatching(select, start, limit, query);
  }

  async maxNotificationId(): Promise<number> {
    if (this.flaw === 'max id is the count') return this.log.length;
    return this.log.length === 0 ? 0 : this.log[this.log.length - 1]!.id;
  }
}

function fieldsOf({ sequenceId, position, topic, data }: SequencedItem) {
  return { sequenceId, position, topic, data };
}
