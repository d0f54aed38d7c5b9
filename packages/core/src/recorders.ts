import type { AppendSignal } from './append-signal.js';
import { NotSupportedError } from './errors.js';
import type { Notification, SequencedItem } from './sequenced-item.js';

/**
 * What a store can do, as interfaces that nest (python eventsourcing v9's recorders): every store is an
 * aggregate recorder; a store that also keeps the application-wide notification log is an application
 * recorder. The seed's active record strategies implement them (see record-strategy.ts), so a store
 * without a log simply has no log methods, and the compiler says so.
 *
 * A store that also records tracking in the same transaction as its appends is a process recorder
 * (process-recorder.ts): ApplicationRecorder < ProcessRecorder.
 */

/** A range of positions in one sequence. Bounds combine; `limit` counts from the first item returned. */
export interface ItemQuery {
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
  readonly limit?: number;
  /** Newest first. With `limit`, the newest `limit` items in the range. */
  readonly descending?: boolean;
}

/** How positions are counted: consecutive integers (versions) or timestamps. */
export type PositionKind = 'integer' | 'timestamp';
/** What a sequence id may be: a UUID (entity ids) or any non-empty string without NUL. */
export type SequenceIdKind = 'uuid' | 'string';

/**
 * What every store offers: the items of each sequence. Appends are atomic and optimistic: if any
 * position of the batch is already taken, a `ConcurrencyError` rejects the whole batch and nothing is
 * written. A batch holds the items of one sequence, in ascending positions.
 */
export interface AggregateRecorder<I = SequencedItem> {
  readonly positionKind: PositionKind;
  readonly sequenceIdKind: SequenceIdKind;
  /**
   * True only on an ApplicationRecorder: the mark a JavaScript caller (and `hasNotificationLog`) can
   * check at run time. Absent or false: no notification log.
   */
  readonly supportsNotifications?: boolean;
  /**
   * Items per page of a long read when the caller names none (`iteratePages`, a repository's replay):
   * what suits the backend. Absent: 1,000.
   */
  readonly pageSize?: number;

  append(items: I | readonly I[]): Promise<void>;
  /** The item at a position; rejects with NotFoundError when there is none. */
  getItem(sequenceId: string, position: number): Promise<I>;
  getItems(sequenceId: string, query?: ItemQuery): Promise<I[]>;
  /** All items in the range, fetched `pageSize` at a time (for long sequences). */
  iterateItems(sequenceId: string, query?: ItemQuery & { pageSize?: number }): AsyncIterable<I>;
  /** The same, a page at a time: for callers that process whole pages (replaying an entity). */
  iteratePages(sequenceId: string, query?: ItemQuery & { pageSize?: number }): AsyncIterable<I[]>;
  listSequenceIds(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * What a load from a snapshot reads: the newest snapshot at or below `snapshotLte`, and the first `limit`
 * events from that snapshot's position on (from the start when there is none), below `eventsLt`.
 */
export interface SnapshotTailQuery {
  /** The newest snapshot at or below this position (an entity version); absent: the newest of all. */
  readonly snapshotLte?: number;
  /** Only events below this position; absent: no upper bound. */
  readonly eventsLt?: number;
  /** At most this many events: a page. */
  readonly limit: number;
}

/** The answer to a SnapshotTailQuery. */
export interface SnapshotTail<I = SequencedItem> {
  /** The snapshot, as its own store's item class would return it; undefined when there is none. */
  readonly snapshot: SequencedItem | undefined;
  /** Ascending; `limit` of them means there may be more after the last. */
  readonly events: I[];
}

/**
 * An optional capability of an events store: reading an entity's newest snapshot, from a snapshots store
 * it can reach in the same request (the same database), together with the events after it. Read one
 * after the other, those are two round trips, since the second needs the first's position; an
 * EventSourcedRepository uses this when `readsSnapshotsOf` says the pair qualifies. Every
 * ActiveRecordStrategy has the methods; `readsSnapshotsOf` is false unless its backend implements them.
 */
export interface SnapshotTailRecorder<I = SequencedItem> extends AggregateRecorder<I> {
  /** True when `getSnapshotTail` can read `snapshots` (decided by the two stores alone: it does not change). */
  readsSnapshotsOf(snapshots: AggregateRecorder<unknown>): boolean;
  /**
   * The snapshot and the events, read at once (one statement on SQL, so both from one state of the
   * database). Rejects with NotSupportedError when `readsSnapshotsOf(snapshots)` is false.
   */
  getSnapshotTail(
    snapshots: AggregateRecorder<unknown>,
    sequenceId: string,
    query: SnapshotTailQuery,
  ): Promise<SnapshotTail<I>>;
}

/** True when `recorder` reads the snapshots of `snapshots` with its events (narrows the type). */
export function readsSnapshotsWith<I>(
  recorder: AggregateRecorder<I>,
  snapshots: AggregateRecorder<unknown>,
): recorder is SnapshotTailRecorder<I> {
  const r = recorder as Partial<SnapshotTailRecorder<I>>;
  return (
    typeof r.readsSnapshotsOf === 'function' &&
    typeof r.getSnapshotTail === 'function' &&
    r.readsSnapshotsOf(snapshots)
  );
}

/** What else selects notifications, besides where to start and how many. */
export interface NotificationQuery {
  /**
   * Only notifications with one of these topics; absent or empty: every topic. A backend filters in its
   * query where it can, and otherwise with `selectMatching` (below): either way `limit` counts matches.
   */
  readonly topics?: readonly string[];
}

/**
 * An aggregate recorder that also keeps the application-wide notification log: every appended item,
 * numbered in commit order, so that followers (projections, other applications) read it in order.
 */
export interface ApplicationRecorder<I = SequencedItem> extends AggregateRecorder<I> {
  readonly supportsNotifications: true;
  /**
   * Notifications with id >= start, ascending, at most `limit` (of those whose topic `query.topics`
   * names, when it names any). Ids increase in commit order. Fewer than `limit` means the log held no
   * more when it was read.
   */
  selectNotifications(start: number, limit: number, query?: NotificationQuery): Promise<Notification[]>;
  /** The highest notification id, or 0 when the log is empty. */
  maxNotificationId(): Promise<number>;
  /**
   * Raised in this process after appends to this log commit, so that followers here wake at once (see
   * AppendSignal). Absent: followers only poll.
   */
  readonly appended?: AppendSignal;
}

/**
 * `selectNotifications` with a topic filter, for a backend that cannot filter in its query: reads
 * unfiltered pages with `select` and keeps the matches until it has `limit` of them or the log ends.
 */
export async function selectMatching(
  select: (start: number, limit: number) => Promise<Notification[]>,
  start: number,
  limit: number,
  query: NotificationQuery = {},
): Promise<Notification[]> {
  const topics = query.topics === undefined || query.topics.length === 0 ? undefined : new Set(query.topics);
  if (topics === undefined) return select(start, limit);
  const matches: Notification[] = [];
  let next = start;
  while (matches.length < limit) {
    const page = await select(next, limit);
    for (const n of page) {
      if (topics.has(n.topic)) matches.push(n);
      if (matches.length === limit) break;
    }
    if (page.length < limit) break;
    next = page[page.length - 1]!.id + 1;
  }
  return matches;
}

/** True when the store keeps a notification log (narrows the type for the compiler). */
export function hasNotificationLog<I>(recorder: AggregateRecorder<I>): recorder is ApplicationRecorder<I> {
  const r = recorder as Partial<ApplicationRecorder<I>> | null | undefined;
  return (
    r?.supportsNotifications === true &&
    typeof r.selectNotifications === 'function' &&
    typeof r.maxNotificationId === 'function'
  );
}

/**
 * The store itself when it keeps a notification log. The compiler already refuses a store without one;
 * this is the same check for JavaScript callers (and values typed `any`): a NotSupportedError that says
 * what `user` needs.
 */
export function requireNotificationLog<I>(
  recorder: ApplicationRecorder<I>,
  user: string,
): ApplicationRecorder<I> {
  if (!hasNotificationLog(recorder)) {
    const name = (recorder as object | null)?.constructor?.name ?? String(recorder);
    throw new NotSupportedError(
      `${user} needs a store with a notification log (an ApplicationRecorder), and ${name} keeps none`,
    );
  }
  return recorder;
}
