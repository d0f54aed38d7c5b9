import { ConcurrencyError, type SequencedItem } from '@es/core';
import type { SqlConnection } from './connection.js';
import type { SqlItemsTable } from './tables.js';

/** What a group committer writes through: one table of one connection. */
export interface GroupCommitTarget {
  /** One sequence's batch, as its own commit. */
  insertItems(items: readonly SequencedItem[]): Promise<void>;
  /** Several sequences' batches as one commit, one outcome per batch (see SqlConnection.insertBatches). */
  insertBatches(batches: readonly (readonly SequencedItem[])[]): Promise<(ConcurrencyError | undefined)[]>;
}

/** How much one group may hold (it always takes the first queued append, however large), and how many run at once. */
export interface GroupLimits {
  /** Items (rows) in one group. */
  readonly maxItems: number;
  /** Characters of topics and data in one group (about its bytes on the wire). */
  readonly maxChars: number;
  /**
   * Groups in flight at once. Two: while one commits, the next already waits for the ordering lock in
   * the database, which then starts it the moment the lock is free, instead of idling for a round trip
   * (and for this process to be scheduled) between groups.
   */
  readonly maxInFlight: number;
  /**
   * For a driver that writes synchronously (better-sqlite3): once appends have been seen queueing behind
   * a group, the next group waits a little (a bounded number of microtasks: see `next`), so that the
   * writers the last commit woke have queued by then and share one commit. Such a driver
   * runs a lone append to its commit before `append` returns, so without this the first writer woken
   * goes alone (one fsync) and only the others share. A lone writer never waits: the wait starts only
   * after a group had company, and ends when a group taken after the wait is alone.
   */
  readonly gather?: boolean;
}

/**
 * How long a gathering group waits (GroupLimits.gather), in microtask hops: a writer woken by a commit
 * comes back through the awaits of EventStore, the strategy and the datastore (8 writers on SQLite all
 * made it into the next group with 32; a hop costs well under a microsecond).
 */
const GATHER_QUIET = 32;
const GATHER_MOST = 512;

/** Enough to share one commit among hundreds of writers, small enough for any server's packet limit. */
export const DEFAULT_GROUP_LIMITS: GroupLimits = { maxItems: 1000, maxChars: 4 << 20, maxInFlight: 2 };

interface Queued {
  readonly items: readonly SequencedItem[];
  readonly sequenceId: string;
  readonly chars: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for one table in this process. Where every append to a table takes the table's ordering
 * lock until its commit (so that notification ids are drawn in commit order), concurrent appends commit
 * one after the other, one fsync each, while a database without that lock would flush them together.
 * This gives them back that: appends queue, and as long as fewer than `maxInFlight` groups are in
 * flight, the queued ones go as ONE group: alone through `insertItems`, several through `insertBatches`
 * (one lock, one commit), each batch keeping its own position check and outcome. A lone append with
 * nothing in flight goes at once.
 *
 * - Two batches of one sequence are never in flight at once (in one group their checks would race
 *   inside one statement; in two, the later statement's check could not see the earlier's rows): the
 *   later one, and every later one of that sequence, waits for a later group, so a sequence's appends
 *   commit in the order they were made.
 * - A group is bounded (GroupLimits); what does not fit waits for the next group, in order.
 * - Each caller's promise settles after the commit, with its own outcome: its batch's ConcurrencyError,
 *   or the group's failure (a lost connection, a timeout), which reaches every caller of that group and
 *   no other.
 * - When `insertBatches` rejects with ConcurrencyError, a position was taken but the database could not
 *   say whose (PostgreSQL's unique violation fails the whole statement) and nothing was stored: the
 *   group's batches are then appended one by one, so that exactly the losing append gets the error.
 * - Nothing queued is dropped: a queued append stays a running operation of its caller (the datastore's
 *   `use`), so closing the datastore waits for it, and one refused after close never reaches the queue.
 */
export class GroupCommitter {
  private queue: Queued[] = [];
  /** The sequences of the groups in flight. */
  private readonly committing = new Set<string>();
  private inFlight = 0;
  /** Appends queued behind the last group (see GroupLimits.gather): the next group waits for the turn's end. */
  private contended = false;
  private gathering = false;
  /** Microtask hops since the last append arrived, while gathering. */
  private quietHops = 0;

  constructor(
    private readonly target: GroupCommitTarget,
    private readonly limits: GroupLimits = DEFAULT_GROUP_LIMITS,
  ) {}

  /** Appends one sequence's batch: at once when a group may start, else with a later group. */
  append(items: readonly SequencedItem[]): Promise<void> {
    const sequenceId = items[0]!.sequenceId;
    if (
      this.queue.length === 0 &&
      this.inFlight < this.limits.maxInFlight &&
      !this.committing.has(sequenceId) &&
      !(this.contended && this.limits.gather)
    )
      return this.sendAlone(sequenceId, items);
    const appended = new Promise<void>((resolve, reject) => {
      this.queue.push({ items, sequenceId, chars: charsOf(items), resolve, reject });
    });
    this.next();
    return appended;
  }

  /**
   * A lone append with nothing queued: the group `start` would take, without its queue entry, promise
   * and settling (a single append through the committer cost ~5 µs of CPU more than without it on
   * SQLite, probes/sqlite-appends.ts). The caller gets the target's own promise.
   */
  private sendAlone(sequenceId: string, items: readonly SequencedItem[]): Promise<void> {
    this.inFlight++;
    this.committing.add(sequenceId);
    let appended: Promise<void>;
    try {
      appended = this.target.insertItems(items);
    } catch (error) {
      appended = Promise.reject(error);
    }
    const done = () => {
      this.inFlight--;
      this.committing.delete(sequenceId);
      this.next();
    };
    appended.then(done, done);
    return appended;
  }

  /**
   * Starts groups now, or, while writers contend (GroupLimits.gather), once the appends of this turn
   * have queued: after the microtask queue has gone GATHER_QUIET hops with no new append, and at most
   * GATHER_MOST hops. Microtasks, not `setImmediate`: a caller that loops on promises that are already
   * settled (a follower polling SQLite, whose reads resolve at once) never lets the event loop turn, and
   * would starve the appends; a bounded wait in microtasks ends whatever else runs.
   */
  private next(): void {
    if (!this.contended || !this.limits.gather) return this.start();
    this.quietHops = 0;
    if (this.gathering) return;
    this.gathering = true;
    let hops = 0;
    const hop = (): void => {
      if (++this.quietHops < GATHER_QUIET && ++hops < GATHER_MOST) return queueMicrotask(hop);
      this.gathering = false;
      this.start(true);
    };
    queueMicrotask(hop);
  }

  /**
   * Starts groups of queued appends while fewer than `maxInFlight` are in flight. `gathered`: after the
   * wait for the turn's end, where a group found alone means the writers no longer contend.
   */
  private start(gathered = false): void {
    while (this.inFlight < this.limits.maxInFlight) {
      const group = this.take();
      if (group.length === 0) return;
      if (group.length > 1 || this.queue.length > 0) this.contended = true;
      else if (gathered) this.contended = false;
      this.inFlight++;
      for (const queued of group) this.committing.add(queued.sequenceId);
      void this.commit(group).then(() => {
        this.inFlight--;
        for (const queued of group) this.committing.delete(queued.sequenceId);
        this.next();
      });
    }
  }

  /**
   * The next group: queued appends in order, at most one per sequence and none of a sequence in flight,
   * up to the first that would pass the limits. The rest stay queued, in order (one pass, not a splice
   * per append: a queue may hold every writer of the process).
   */
  private take(): Queued[] {
    const group: Queued[] = [];
    const rest: Queued[] = [];
    const sequences = new Set<string>();
    let items = 0;
    let chars = 0;
    let full = false;
    for (const queued of this.queue) {
      if (full || sequences.has(queued.sequenceId) || this.committing.has(queued.sequenceId)) {
        rest.push(queued);
        continue;
      }
      if (
        group.length > 0 &&
        (items + queued.items.length > this.limits.maxItems || chars + queued.chars > this.limits.maxChars)
      ) {
        full = true;
        rest.push(queued);
        continue;
      }
      sequences.add(queued.sequenceId);
      items += queued.items.length;
      chars += queued.chars;
      group.push(queued);
    }
    this.queue = rest;
    return group;
  }

  /** Commits a group, settling each caller's promise with its own outcome. Never rejects. */
  private async commit(group: readonly Queued[]): Promise<void> {
    if (group.length === 1) return this.alone(group[0]!);
    let outcomes: (ConcurrencyError | undefined)[];
    try {
      outcomes = await this.target.insertBatches(group.map((queued) => queued.items));
    } catch (error) {
      if (ConcurrencyError.isInstance(error)) {
        for (const queued of group) await this.alone(queued);
      } else {
        for (const queued of group) queued.reject(error);
      }
      return;
    }
    if (outcomes.length !== group.length) {
      const wrong = new Error(
        `@es/sql: insertBatches answered ${outcomes.length} outcomes for ${group.length} batches`,
      );
      for (const queued of group) queued.reject(wrong);
      return;
    }
    group.forEach((queued, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) queued.resolve();
      else queued.reject(outcome);
    });
  }

  private async alone(queued: Queued): Promise<void> {
    try {
      await this.target.insertItems(queued.items);
      queued.resolve();
    } catch (error) {
      queued.reject(error);
    }
  }
}

function charsOf(items: readonly SequencedItem[]): number {
  let chars = 0;
  for (const item of items) chars += item.topic.length + item.data.length;
  return chars;
}

/** Each connection's committers, by table: appends to one table in this process share one. */
const committers = new WeakMap<SqlConnection, Map<string, GroupCommitter>>();

/**
 * Appends one sequence's batch to a table: through the connection's group committer for the table when
 * its dialect shares commits (`insertBatches`), else with `insertItems`.
 */
export function appendGrouped(
  connection: SqlConnection,
  table: SqlItemsTable,
  items: readonly SequencedItem[],
): Promise<void> {
  if (connection.insertBatches === undefined) return connection.insertItems(table, items);
  let tables = committers.get(connection);
  if (tables === undefined) committers.set(connection, (tables = new Map()));
  const key = `${table.kind} ${table.tableName}`;
  let committer = tables.get(key);
  if (committer === undefined) {
    const insertBatches = connection.insertBatches.bind(connection);
    committer = new GroupCommitter(
      {
        insertItems: (batch) => connection.insertItems(table, batch),
        insertBatches: (batches) => insertBatches(table, batches),
      },
      connection.groupLimits,
    );
    tables.set(key, committer);
  }
  return committer.append(items);
}
