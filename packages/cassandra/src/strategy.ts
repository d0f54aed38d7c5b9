import {
  type AggregateRecorder,
  type Notification,
  type NotificationQuery,
  NotSupportedError,
  SequencedItem,
  type SnapshotTail,
  ValidationError,
} from '@es/core';
import {
  ActiveRecordStrategy,
  type ActiveRecordStrategyOptions,
  type AppendSignal,
  type NormalizedQuery,
  type TableOption,
  selectMatching,
  tableOption,
} from '@es/core/backend';
import { AppendProtocol } from './append.js';
import { BoundFeed } from './bound-feed.js';
import { BoundTable } from './bound-table.js';
import {
  type CassandraDatastore,
  type CqlSession,
  checkLayout,
  connectionError,
  defaultSession,
} from './datastore.js';
import { KnownBuckets } from './known.js';
import { newCommitId } from './outcome.js';
import { ReadPlanner } from './read-planner.js';
import { RecentMap } from './recent.js';
import { FeedSequencer, feedKey, hintSignalFor, logSignalFor } from './sequencer.js';
import { CqlTable, type CqlTableKind } from './tables.js';

export type CassandraActiveRecordStrategyOptions<
  I = SequencedItem,
  K extends CqlTableKind = CqlTableKind,
  F extends boolean = boolean,
> = Omit<ActiveRecordStrategyOptions<I>, 'positionKind' | 'contiguous'> &
  /**
   * The table definition (`table`, or the seed's `activeRecordClass`): CqlIntegerSequencedItem,
   * CqlTimestampSequencedItem, CqlSnapshot, or one made from them with `withTableName`/`withBucketSize`
   * (and, for integer tables, `withFeed()`: the strategy is then an ApplicationRecorder).
   */
  TableOption<CqlTable<K, F>> & {
    /**
     * Tables with a feed: before each `selectNotifications` and `maxNotificationId`, run a sequencer
     * pass in this process, so that a read sees every append acknowledged before it began (what the
     * SQL stores' logs offer). Costs a pass per read; followers that can wait for the running
     * sequencer (a FeedSequencer, see docs/cassandra.md) leave it off. Default false.
     */
    catchUpOnRead?: boolean;
    /** Whose connection to use. Default: the datastore most recently connected by `setupConnection()`. */
    datastore?: CassandraDatastore;
    /** An explicit client, keyspace and settings (takes precedence over `datastore`). */
    session?: CqlSession;
    /** Largest append in bytes of data and topics. Default 12 MiB, below Cassandra's 16 MiB mutation limit. */
    maxBatchBytes?: number;
  };

type WithFeed = { readonly supportsNotifications: true };

let lastDeadline = 0;
/**
 * A hint's deadline: now plus the request timeout, and strictly increasing within this process, so that
 * the sequencer, which orders commits by it, copies an append acknowledged here before a later one.
 */
function nextDeadline(timeoutMs: number): number {
  lastDeadline = Math.max(Date.now() + timeoutMs, lastDeadline + 1);
  return lastDeadline;
}

/** How many entities' snapshot positions a strategy remembers (a number and an id each). */
const SNAPSHOT_GUESSES = 10_000;

/**
 * The seed's CassandraActiveRecordStrategy, with an atomic, optimistic append that holds under
 * concurrent writers. It wires the parts, each in its own module:
 * - bound-table.ts: the table's CQL, bound to a session (every statement prepared, paged, at the
 *   configured levels);
 * - append.ts: the append protocol (conditional batches on bucketed partitions) and the resolution of
 *   unknown outcomes by SERIAL reads;
 * - read-planner.ts: which buckets a query reads, helped by known.ts (facts about buckets that can
 *   never become false).
 *
 * - with a feed (an integer table made with `withFeed()`), bound-feed.ts and sequencer.ts: each append
 *   first writes a hint, and a FeedSequencer copies committed items into the feed's log, which
 *   `selectNotifications` reads.
 *
 * Over a table with a feed (`F` true) it is an ApplicationRecorder; over any other table an
 * AggregateRecorder, whose log methods the compiler refuses (their `this` type) and which reject with
 * NotSupportedError at run time, as @es/sql types the log methods of its tables.
 */
export class CassandraActiveRecordStrategy<
  I = SequencedItem,
  K extends CqlTableKind = CqlTableKind,
  F extends boolean = boolean,
> extends ActiveRecordStrategy<I> {
  readonly table: CqlTable<K, F>;
  /** True over a table with a feed: the strategy keeps the application's notification log. */
  readonly supportsNotifications: F;
  readonly maxBatchBytes: number;
  // Private (#): a session's client holds the password, and strategies get logged.
  readonly #session: CqlSession | undefined;
  private readonly datastore: CassandraDatastore | undefined;
  /** Per client: the layout check, resolving to whether the table carries the `newer` marks. */
  private readonly layoutChecks = new WeakMap<object, Promise<boolean>>();
  /** Facts about buckets that can never become false (see known.ts): they save round trips. */
  private readonly known = new KnownBuckets();
  /**
   * By entity id, the position of the snapshot the last load from a snapshot found (see
   * selectSnapshotTail), the least recently used forgotten past SNAPSHOT_GUESSES ids: a guess, never a fact.
   */
  private readonly snapshotGuesses = new RecentMap<string, number>(SNAPSHOT_GUESSES);
  /** The sequencer that `catchUpOnRead` runs passes of. */
  private readonly catchUp: FeedSequencer | undefined;

  constructor(options: CassandraActiveRecordStrategyOptions<I, K, F>) {
    const {
      table: _table,
      activeRecordClass: _activeRecordClass,
      datastore,
      session,
      maxBatchBytes = 12 * 1024 * 1024,
      catchUpOnRead = false,
      ...rest
    } = options;
    const table = tableOption(
      options,
      (value): value is CqlTable<K, F> => value instanceof CqlTable,
      'CqlIntegerSequencedItem',
    );
    // True for integer tables: an append must start exactly one past the sequence's last position.
    super({ ...rest, positionKind: table.positionKind, contiguous: table.contiguous });
    if (!Number.isSafeInteger(maxBatchBytes) || maxBatchBytes < 1) {
      throw new ValidationError('maxBatchBytes must be a positive integer', 'maxBatchBytes');
    }
    this.table = table;
    this.supportsNotifications = (table.feed !== undefined) as F;
    this.maxBatchBytes = maxBatchBytes;
    this.#session = session;
    this.datastore = datastore;
    this.catchUp =
      catchUpOnRead && table.feed !== undefined
        ? new FeedSequencer({
            table: table as unknown as CqlTable<'integer', true>,
            ...(session ? { session } : {}),
            ...(datastore ? { datastore } : {}),
          })
        : undefined;
  }

  /** Tables with a feed: raised in this process when the feed's log grows (see AppendSignal). */
  get appended(): AppendSignal | undefined {
    if (this.table.feed === undefined) return undefined;
    return logSignalFor(feedKey(this.currentSession(), this.table));
  }

  protected insert(items: readonly SequencedItem[]): Promise<void> {
    return this.tracked(() => this.insertNow(items));
  }

  private async insertNow(items: readonly SequencedItem[]): Promise<void> {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: the exact count (Buffer.byteLength of every string,
    // ~10 µs per 100-event batch) is needed only when that bound passes the limit.
    let units = 0;
    for (const item of items) units += item.data.length + item.topic.length;
    let bytes = 0;
    if (units * 3 > this.maxBatchBytes)
      for (const item of items)
        bytes += Buffer.byteLength(item.data, 'utf8') + Buffer.byteLength(item.topic, 'utf8');
    if (bytes > this.maxBatchBytes) {
      throw new ValidationError(
        `a batch holds at most ${this.maxBatchBytes} bytes of data and topics, got ${bytes}`,
        'items',
      );
    }
    const bound = await this.bound();
    const commit = newCommitId();
    if (this.table.feed === undefined) {
      await new AppendProtocol(bound, this.known).append(items, commit);
      return;
    }
    // The hint goes first, so that no committed append is ever without one; the append is not sent
    // after the hint's deadline, so that a sequencer can tell when an absent append will never land.
    const deadline = nextDeadline(bound.settings.requestTimeoutMs);
    const { sequenceId, position: first } = items[0]!;
    await new BoundFeed(bound).writeHint({ sequenceId, commit, first, deadline });
    await new AppendProtocol(bound, this.known, deadline).append(items, commit);
    hintSignalFor(feedKey(bound.session, this.table)).raise();
  }

  /**
   * Notifications with id >= start from the feed's log: every committed append, as the sequencer has
   * copied it so far (with `catchUpOnRead`, including every append acknowledged before this call).
   */
  async selectNotifications(
    this: CassandraActiveRecordStrategy<I, K, F> & WithFeed,
    start: number,
    limit: number,
    query: NotificationQuery = {},
  ): Promise<Notification[]> {
    this.validateNotificationRange(start, limit);
    // Tracked like the other operations: close() waits for it, and a read after close is StoreClosedError.
    return this.tracked(async () => {
      const feed = await this.feed();
      await this.catchUp?.runOnce();
      return selectMatching((from, count) => feed.read(from, count), start, limit, query);
    });
  }

  /** The last id in the feed's log, 0 when it is empty. */
  async maxNotificationId(this: CassandraActiveRecordStrategy<I, K, F> & WithFeed): Promise<number> {
    return this.tracked(async () => {
      const feed = await this.feed();
      await this.catchUp?.runOnce();
      return feed.tail(await feed.readWatermark(), false);
    });
  }

  private async feed(): Promise<BoundFeed> {
    if (this.table.feed === undefined) {
      throw new NotSupportedError(
        `table ${this.table.tableName} keeps no notification log: make it with withFeed() (see docs/cassandra.md, "The feed")`,
      );
    }
    return new BoundFeed(await this.bound());
  }

  protected select(sequenceId: string, query: NormalizedQuery): Promise<SequencedItem[]> {
    return this.tracked(async () =>
      new ReadPlanner(await this.bound(), this.table, this.known).select(sequenceId, query),
    );
  }

  /**
   * Snapshots of another strategy's integer positions, under an integer (contiguous) events table: a
   * load from a snapshot then reads the events after the snapshot it guesses at the same time as the
   * snapshot (see selectSnapshotTail).
   */
  override readsSnapshotsOf(snapshots: AggregateRecorder<unknown>): boolean {
    return (
      snapshots instanceof CassandraActiveRecordStrategy &&
      snapshots.positionKind === 'integer' &&
      this.table.contiguous &&
      snapshots.sequenceIdKind === this.sequenceIdKind
    );
  }

  /**
   * Cassandra has no statement that reads two tables, and the events read needs the snapshot's
   * position: so the events are read from the position of the snapshot the previous load of the entity
   * found, at the same time as the snapshot, and kept when the snapshot found is at that position (the
   * usual case: an entity is snapshotted far less often than it is loaded). Otherwise, or with no
   * guess, they are read after the snapshot, as before. Either way each read sees committed rows only,
   * and contiguous positions: a snapshot at v and events v.. read at another moment are still an entity
   * that was stored (later appends only add events after the ones read).
   */
  protected override async selectSnapshotTail(
    snapshots: CassandraActiveRecordStrategy<unknown>,
    sequenceId: string,
    snapshotUpper: number,
    eventsUpper: number,
    limit: number,
  ): Promise<SnapshotTail<SequencedItem>> {
    const eventsFrom = (from: number): Promise<SequencedItem[]> =>
      from > eventsUpper
        ? Promise.resolve([])
        : this.select(sequenceId, {
            lower: from,
            lowerInclusive: true,
            upper: eventsUpper,
            upperInclusive: true,
            limit,
            descending: false,
          });
    const guess = this.snapshotGuesses.get(sequenceId);
    const early = guess !== undefined && guess <= snapshotUpper ? eventsFrom(guess) : undefined;
    // Awaited only when the guess holds: its failure must not be unhandled otherwise.
    early?.catch(() => undefined);
    const [snapshot] =
      snapshotUpper < 0
        ? []
        : await snapshots.select(sequenceId, {
            lower: -Infinity,
            lowerInclusive: true,
            upper: snapshotUpper,
            upperInclusive: true,
            limit: 1,
            descending: true,
          });
    const from = snapshot?.position ?? 0;
    if (snapshot !== undefined) this.snapshotGuesses.set(sequenceId, from);
    const events = early !== undefined && guess === from ? await early : await eventsFrom(from);
    return { snapshot, events };
  }

  protected selectSequenceIds(): Promise<string[]> {
    return this.tracked(async () => {
      const ids = new Set<string>();
      for await (const id of (await this.bound()).sequenceIds()) ids.add(id);
      return [...ids];
    });
  }

  /** An operation on the datastore's connection, which its close() waits for (a session passed in is the caller's). */
  protected tracked<T>(operation: () => Promise<T>): Promise<T> {
    return this.#session === undefined && this.datastore !== undefined
      ? this.datastore.use(operation)
      : operation();
  }

  /** The table bound to the session to use, after checking once per client that it has this layout. */
  protected async bound(): Promise<BoundTable> {
    const session = this.currentSession();
    let check = this.layoutChecks.get(session.client);
    if (check === undefined) {
      check = checkLayout(session, this.table).catch((error: unknown) => {
        this.layoutChecks.delete(session.client);
        throw connectionError(error, session.settings);
      });
      this.layoutChecks.set(session.client, check);
    }
    return new BoundTable(session, this.table, undefined, await check);
  }

  private currentSession(): CqlSession {
    return this.#session ?? this.datastore?.session ?? defaultSession();
  }
}
