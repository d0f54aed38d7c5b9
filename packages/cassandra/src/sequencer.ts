import { randomUUID } from 'node:crypto';
import { type SequencedItem, StoreClosedError, ValidationError } from '@es/core';
import { type AppendSignal, appendSignalFor } from '@es/core/backend';
import { types } from 'cassandra-driver';
import { commitAt } from './append.js';
import { inCommitOrder } from './commit-order.js';
import { BoundFeed, type Hint, type LogEntry } from './bound-feed.js';
import { BoundTable } from './bound-table.js';
import { type CassandraDatastore, type CqlSession, checkLayout, defaultSession } from './datastore.js';
import { KnownBuckets } from './known.js';
import { ReadPlanner } from './read-planner.js';
import type { CqlTable } from './tables.js';

export interface FeedSequencerOptions {
  /** The table whose feed this sequencer extends (made with `withFeed()`). */
  table: CqlTable<'integer', true>;
  /** Whose connection to use. Default: the datastore most recently connected by `setupConnection()`. */
  datastore?: CassandraDatastore;
  /** An explicit client, keyspace and settings (takes precedence over `datastore`). */
  session?: CqlSession;
  /** This sequencer's name in the lease row. Default: a random UUID. */
  holder?: string;
  /** How often a running sequencer looks for new hints (and a standby for a free lease). Default 100 ms. */
  pollIntervalMs?: number;
  /**
   * How long the lease lasts unless renewed (each pass renews it). A standby takes over at most this
   * long (plus one poll) after the holder stops renewing. Default 10 s.
   */
  leaseSeconds?: number;
  /** Most items in one conditional batch of the log. Default 500. */
  chunkItems?: number;
  /** Most bytes of data and topics in one conditional batch of the log. Default 4 MiB. */
  chunkBytes?: number;
  /** Most items copied from one sequence in one pass. Default 10,000. */
  copyLimit?: number;
  /** How far apart the writers' and sequencers' clocks may be. Default 1,000 ms. */
  clockSkewMs?: number;
  /**
   * Called with each failed pass's error (the loop goes on, except after its datastore was closed).
   * Default: a process warning (`process.emitWarning`) when the error differs from the last one
   * reported, so that a failing sequencer is never silent and never floods the log.
   */
  onError?: (error: unknown) => void;
}

/** What one pass did. */
export interface FeedPass {
  /** Items appended to the log. */
  readonly copied: number;
  /** Hints deleted: their items are in the log, or their append proved absent. */
  readonly retired: number;
  /** True when another sequencer extended the log first (this one re-reads the log next pass). */
  readonly lostRace: boolean;
}

/**
 * Copies committed appends of a table into its feed's log (see docs/cassandra.md, "The feed"). One
 * pass: read every hint; for each hinted sequence, read its items after the last position copied;
 * append them to the log in chunks, each a conditional batch fenced by the log's head; record progress;
 * delete the hints that are covered, and those whose append proved absent after their deadline.
 *
 * `start()` runs passes while this sequencer holds the feed's lease (a lightweight transaction with a
 * TTL), and stands by otherwise; `runOnce()` runs one pass whatever the lease says. Correctness never
 * depends on the lease: two sequencers at once only make one of them lose its compare-and-set.
 */
export class FeedSequencer {
  readonly table: CqlTable<'integer', true>;
  readonly holder: string;
  private readonly options: Required<
    Pick<
      FeedSequencerOptions,
      'pollIntervalMs' | 'leaseSeconds' | 'chunkItems' | 'chunkBytes' | 'copyLimit' | 'clockSkewMs'
    >
  >;
  // Private (#): a session's client holds the password, and sequencers get logged.
  readonly #session: CqlSession | undefined;
  private readonly datastore: CassandraDatastore | undefined;
  private readonly onError: (error: unknown) => void;
  private readonly known = new KnownBuckets();
  /** Last position copied per sequence, learnt from the log since the last recovery (a cache). */
  private progress = new Map<string, number>();
  /** The log's last id, exact while `synced`. */
  private tail = 0;
  private synced = false;
  private layoutChecked: Promise<boolean> | undefined;
  private current: Promise<FeedPass> | undefined;
  private queued: Promise<FeedPass> | undefined;
  private loop: Promise<void> | undefined;
  private stopping: AbortController | undefined;
  private leading = false;
  private lastErrorValue: unknown;

  constructor(options: FeedSequencerOptions) {
    const { table } = options;
    if (table?.feed === undefined || table.kind !== 'integer')
      throw new ValidationError('a FeedSequencer needs a table made with withFeed()', 'table');
    this.table = table;
    this.#session = options.session;
    this.datastore = options.datastore;
    this.holder = options.holder ?? randomUUID();
    this.onError = options.onError ?? warnOnChange();
    this.options = {
      pollIntervalMs: options.pollIntervalMs ?? 100,
      leaseSeconds: options.leaseSeconds ?? 10,
      chunkItems: options.chunkItems ?? 500,
      chunkBytes: options.chunkBytes ?? 4 * 1024 * 1024,
      copyLimit: options.copyLimit ?? 10_000,
      clockSkewMs: options.clockSkewMs ?? 1000,
    };
    for (const [name, value] of Object.entries(this.options))
      if (!Number.isSafeInteger(value) || value < (name === 'clockSkewMs' ? 0 : 1))
        throw new ValidationError(`${name} must be a positive integer, got ${String(value)}`, name);
  }

  /** Raised after each chunk lands in the log: the followers' signal (the strategies' `appended`). */
  get appended(): AppendSignal {
    return logSignalFor(feedKey(this.sessionNow(), this.table));
  }

  /** The last error a pass of the loop failed with (undefined until one fails). */
  get lastError(): unknown {
    return this.lastErrorValue;
  }

  /** True while this sequencer holds the lease (as of its last claim). */
  get isLeading(): boolean {
    return this.leading;
  }

  get isRunning(): boolean {
    return this.loop !== undefined;
  }

  /**
   * Runs passes while holding the lease, until `stop()`. A pass starts every `pollIntervalMs`, or at
   * once when a writer in this process has just appended.
   */
  start(): void {
    if (this.loop !== undefined) return;
    const stopping = (this.stopping = new AbortController());
    const hinted = hintSignalFor(feedKey(this.sessionNow(), this.table));
    this.loop = (async () => {
      while (!stopping.signal.aborted) {
        const seen = hinted.count;
        try {
          this.leading = await this.tracked(async () =>
            (await this.feed()).claimLease(this.holder, this.options.leaseSeconds),
          );
          if (this.leading && !stopping.signal.aborted) {
            const pass = await this.runOnce();
            if (pass.copied > 0) continue; // more may be waiting: no pause
          }
        } catch (error) {
          this.leading = false;
          this.lastErrorValue = error;
          // A closed datastore never comes back: the loop ends instead of failing every pollIntervalMs
          // (and keeping the process alive). Its lease lapses after leaseSeconds.
          if (error instanceof StoreClosedError) {
            this.onError(error);
            break;
          }
          this.onError(error);
        }
        await hinted.wait(seen, { timeoutMs: this.options.pollIntervalMs, signal: stopping.signal });
      }
      if (!stopping.signal.aborted) this.loop = undefined; // ended on its own (its datastore closed)
    })();
  }

  /** Stops the loop after its current pass and releases the lease (a standby takes over at once). */
  async stop(): Promise<void> {
    if (this.loop === undefined) return;
    this.stopping?.abort();
    await this.loop;
    this.loop = undefined;
    if (this.leading) {
      this.leading = false;
      await this.tracked(async () => (await this.feed()).releaseLease(this.holder)).catch(this.onError);
    }
  }

  /**
   * One pass, whatever the lease says. Passes never overlap in one sequencer: a call made during a pass
   * waits for it, then runs (or joins) the next one, so its pass starts after the call.
   */
  runOnce(): Promise<FeedPass> {
    if (this.queued !== undefined) return this.queued;
    if (this.current === undefined) return this.begin();
    const queued = this.current
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.begin();
      });
    this.queued = queued;
    return queued;
  }

  private begin(): Promise<FeedPass> {
    // On a datastore, a pass is one of its operations: close() waits for it, and after close it is
    // refused with StoreClosedError (not a driver error from a client shut down under it).
    const pass = this.tracked(() => this.pass()).finally(() => {
      if (this.current === pass) this.current = undefined;
    });
    this.current = pass;
    return pass;
  }

  private async pass(): Promise<FeedPass> {
    const feed = await this.feed();
    if (!this.synced) await this.recover(feed);
    const hints = await feed.readHints();
    const sequences = [...new Set(hints.map((hint) => hint.sequenceId))];
    const commits = new WeakMap<SequencedItem, types.Uuid>();
    const reader = new BoundTable(feed.items.session, this.table, commits);
    const news = await mapLimited(sequences, 16, (sequenceId) => this.newItems(reader, feed, sequenceId));
    let copied = 0;
    let lostRace = false;
    const advanced = new Set<string>();
    for (const chunk of this.chunks(inCommitOrder(news, hints, commits))) {
      const outcome = await feed.appendChunk(this.tail, chunk, types.Uuid.random());
      if (outcome !== 'applied') {
        // Another sequencer extended the log, or the outcome is unknown: the log itself will say,
        // at the next pass's recovery (SERIAL reads complete any round still in flight).
        this.synced = false;
        lostRace = true;
        break;
      }
      this.tail += chunk.length;
      copied += chunk.length;
      for (const entry of chunk) {
        this.progress.set(entry.sequenceId, entry.position);
        advanced.add(entry.sequenceId);
      }
      this.appended.raise();
    }
    if (advanced.size > 0) {
      await mapLimited([...advanced], 16, (id) => feed.writeProgress(id, this.progress.get(id)!));
      await feed.writeWatermark(this.tail + 1);
    }
    // A sequence is drained when this pass read it to its end (fewer than copyLimit new items) and copied
    // all of it. Only then are its appends whole in the log: an append may span chunks, and a pass that
    // stopped part-way (a lost race, an unknown outcome, the copy limit) copied only the front of it.
    const drained = new Set<string>();
    sequences.forEach((sequenceId, i) => {
      const items = news[i]!;
      const last = items[items.length - 1];
      if (
        items.length < this.options.copyLimit &&
        (last === undefined || (this.progress.get(sequenceId) ?? -1) >= last.position)
      )
        drained.add(sequenceId);
    });
    const retired = await this.retire(feed, hints, drained);
    // Everything the cache holds is in the progress table now: it may be dropped to bound its size.
    if (this.synced && this.progress.size > 100_000) this.progress = new Map();
    return { copied, retired: retired.length, lostRace };
  }

  /**
   * Learns the log from the watermark on: every id below it has its progress row, and the ids from it
   * to the tail (read at SERIAL, which completes any chunk still in flight) are read here. The cache is
   * dropped first: another sequencer may have moved the watermark past entries this one never saw.
   */
  private async recover(feed: BoundFeed): Promise<void> {
    this.progress = new Map();
    const watermark = await feed.readWatermark();
    const tail = await feed.tail(watermark, true);
    const scanned = new Set<string>();
    for (let id = watermark; id <= tail;) {
      const page = await feed.read(id, Math.min(1000, tail - id + 1));
      if (page.length === 0) throw new Error(`the feed's log has no id ${id} below its tail ${tail}`);
      for (const n of page) {
        this.progress.set(n.sequenceId, Math.max(this.progress.get(n.sequenceId) ?? -1, n.position));
        scanned.add(n.sequenceId);
      }
      id = page[page.length - 1]!.id + 1;
    }
    await mapLimited([...scanned], 16, (id) => feed.writeProgress(id, this.progress.get(id)!));
    if (tail + 1 > watermark) await feed.writeWatermark(tail + 1);
    this.tail = tail;
    this.synced = true;
  }

  private async copiedOf(feed: BoundFeed, sequenceId: string): Promise<number> {
    let copied = this.progress.get(sequenceId);
    if (copied === undefined) {
      copied = await feed.readProgress(sequenceId);
      this.progress.set(sequenceId, copied);
    }
    return copied;
  }

  /** A sequence's committed items after the last one copied (at most `copyLimit`). */
  private async newItems(reader: BoundTable, feed: BoundFeed, sequenceId: string): Promise<SequencedItem[]> {
    const copied = await this.copiedOf(feed, sequenceId);
    const planner = new ReadPlanner(reader, this.table, this.known);
    return planner.select(sequenceId, {
      lower: copied,
      lowerInclusive: false,
      upper: Infinity,
      upperInclusive: true,
      limit: this.options.copyLimit,
      descending: false,
    });
  }

  /** The entries as chunks: at most `chunkItems` items and `chunkBytes` bytes, never across log partitions. */
  private *chunks(entries: readonly LogEntry[]): Generator<LogEntry[]> {
    const feed = this.table.feed;
    let start = 0;
    let tail = this.tail;
    while (start < entries.length) {
      const room = (Math.floor((tail + 1) / feed.logBucketSize) + 1) * feed.logBucketSize - 1 - tail;
      let end = start;
      let bytes = 0;
      while (end < entries.length && end - start < Math.min(room, this.options.chunkItems)) {
        const entry = entries[end]!;
        const size = Buffer.byteLength(entry.data, 'utf8') + Buffer.byteLength(entry.topic, 'utf8');
        if (end > start && bytes + size > this.options.chunkBytes) break;
        bytes += size;
        end += 1;
      }
      yield entries.slice(start, end);
      tail += end - start;
      start = end;
    }
  }

  /**
   * The hints whose items are in the log (the sequence's progress reached the hint's first position,
   * and the sequence was `drained` in this pass, so the whole append was copied, not only its front),
   * and those whose append proved absent: past the writer's deadline, the time a request may still
   * take, and the clock skew allowed, a SERIAL read of the first position finds nothing.
   */
  private async retire(
    feed: BoundFeed,
    hints: readonly Hint[],
    drained: ReadonlySet<string>,
  ): Promise<Hint[]> {
    const { requestTimeoutMs } = feed.items.settings;
    const now = Date.now();
    const done: Hint[] = [];
    const expired: Hint[] = [];
    for (const hint of hints) {
      const copied = this.progress.get(hint.sequenceId);
      if (copied !== undefined && copied >= hint.first) {
        // Kept while the rest of its append may still be waiting: the next pass reads the sequence again.
        if (drained.has(hint.sequenceId)) done.push(hint);
      } else if (now > hint.deadline + requestTimeoutMs + this.options.clockSkewMs) expired.push(hint);
    }
    await mapLimited(expired, 16, async (hint) => {
      const found = await commitAt(feed.items, hint.sequenceId, this.table.bucketOf(hint.first), hint.first);
      if (found === undefined) done.push(hint);
    });
    if (done.length > 0) await feed.deleteHints(done);
    return done;
  }

  /** On a datastore, work is one of its operations: close() waits for it, and refuses it after. */
  private tracked<T>(operation: () => Promise<T>): Promise<T> {
    return this.#session === undefined && this.datastore !== undefined
      ? this.datastore.use(operation)
      : operation();
  }

  private sessionNow(): CqlSession {
    return this.#session ?? this.datastore?.session ?? defaultSession();
  }

  private async feed(): Promise<BoundFeed> {
    const session = this.sessionNow();
    this.layoutChecked ??= checkLayout(session, this.table).catch((error: unknown) => {
      this.layoutChecked = undefined;
      throw error;
    });
    await this.layoutChecked;
    return new BoundFeed(new BoundTable(session, this.table));
  }
}

/** The identity of a feed in this process: its keyspace and table (for the in-process signals). */
export function feedKey(session: CqlSession, table: CqlTable): string {
  return `cassandra:${session.settings.address}/${session.keyspace}.${table.tableName}`;
}

/** Raised in this process after chunks land in a feed's log: what its followers here wait on. */
export function logSignalFor(key: string): AppendSignal {
  return appendSignalFor(`${key}#log`);
}

/** Raised by writers in this process after an append with a hint: a sequencer here wakes at once. */
export function hintSignalFor(key: string): AppendSignal {
  return appendSignalFor(`${key}#hints`);
}

async function mapLimited<T, R>(
  values: readonly T[],
  limit: number,
  f: (value: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(values.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < values.length) {
      const i = next++;
      out[i] = await f(values[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, values.length) }, worker));
  return out;
}

/** The default `onError`: a process warning for each error unlike the one before it. */
function warnOnChange(): (error: unknown) => void {
  let last: string | undefined;
  return (error) => {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (text === last) return;
    last = text;
    process.emitWarning(`@es/cassandra FeedSequencer: a pass failed (it will retry): ${text}`, {
      code: 'ES_FEED_SEQUENCER',
    });
  };
}
