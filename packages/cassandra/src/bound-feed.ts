import { type Notification, NotificationItem } from '@es/core';
import { types } from 'cassandra-driver';
import { type BoundTable, MAX_INT, toNumber } from './bound-table.js';
import { statementError } from './datastore.js';
import { NEVER_RETRY, outcomeMayBeUnknown } from './outcome.js';
import type { CqlFeedLayout } from './tables.js';

/** An append's intent, written before its conditional batch (see docs/cassandra.md, "The feed"). */
export interface Hint {
  readonly shard: number;
  readonly sequenceId: string;
  readonly commit: types.Uuid;
  /** The append's first position. */
  readonly first: number;
  /** The writer's clock (ms) after which it no longer sends the append. */
  readonly deadline: number;
}

/** An item as the sequencer copies it into the log. */
export interface LogEntry {
  readonly sequenceId: string;
  readonly position: number;
  readonly topic: string;
  readonly data: string;
}

export type ChunkOutcome = 'applied' | 'lost' | 'unknown';

/**
 * The feed's tables bound to a session: hints, the log, per-sequence progress, the watermark and the
 * lease. Every statement is prepared and runs at the configured levels; conditional writes are never
 * retried by the driver.
 */
export class BoundFeed {
  readonly layout: CqlFeedLayout;
  private readonly hints: string;
  private readonly log: string;
  private readonly progress: string;
  private readonly state: string;

  constructor(readonly items: BoundTable) {
    const { table, session } = items;
    if (table.feed === undefined) throw new TypeError(`table ${table.tableName} keeps no feed`);
    this.layout = table.feed;
    const ks = session.keyspace;
    this.hints = `${ks}.${table.hintsTableName}`;
    this.log = `${ks}.${table.logTableName}`;
    this.progress = `${ks}.${table.progressTableName}`;
    this.state = `${ks}.${table.feedStateTableName}`;
  }

  private get codes() {
    return this.items.settings.consistencyCodes;
  }

  /** The hints partition of a sequence: a stable hash of its id. */
  shardOf(sequenceId: string): number {
    let hash = 0;
    for (let i = 0; i < sequenceId.length; i++) hash = (Math.imul(hash, 31) + sequenceId.charCodeAt(i)) | 0;
    return (hash >>> 0) % this.layout.shards;
  }

  // --- hints ---

  async writeHint(hint: Omit<Hint, 'shard'>): Promise<void> {
    await this.items.run(
      `INSERT INTO ${this.hints} (shard, sequence_id, commit_id, first, deadline) VALUES (?, ?, ?, ?, ?)`,
      [this.shardOf(hint.sequenceId), hint.sequenceId, hint.commit, hint.first, hint.deadline],
      this.codes.write,
    );
  }

  /** Every hint of every shard (the shards read at once). */
  async readHints(): Promise<Hint[]> {
    const shards = Array.from({ length: this.layout.shards }, (_, shard) => shard);
    const read = async (shard: number): Promise<Hint[]> => {
      const out: Hint[] = [];
      for await (const page of this.items.pages(
        `SELECT sequence_id, commit_id, first, deadline FROM ${this.hints} WHERE shard = ?`,
        [shard],
        this.items.settings.fetchSize,
      ))
        for (const row of page)
          out.push({
            shard,
            sequenceId: row.get('sequence_id') as string,
            commit: row.get('commit_id') as types.Uuid,
            first: toNumber(row.get('first')),
            deadline: toNumber(row.get('deadline')),
          });
      return out;
    };
    return (await Promise.all(shards.map(read))).flat();
  }

  /** Deletes hints by their exact keys: a commit id is unique, so no other append's hint is touched. */
  async deleteHints(hints: readonly Hint[]): Promise<void> {
    const byShard = new Map<number, Hint[]>();
    for (const hint of hints) byShard.set(hint.shard, [...(byShard.get(hint.shard) ?? []), hint]);
    await Promise.all(
      [...byShard].map(async ([shard, list]) => {
        for (let i = 0; i < list.length; i += 100) {
          const statements = list.slice(i, i + 100).map((hint) => ({
            query: `DELETE FROM ${this.hints} WHERE shard = ? AND sequence_id = ? AND commit_id = ?`,
            params: [shard, hint.sequenceId, hint.commit],
          }));
          try {
            // One partition: an unlogged batch is one mutation, and deleting twice is harmless.
            await this.items.session.client.batch(statements, {
              prepare: true,
              logged: false,
              consistency: this.codes.write,
              readTimeout: this.items.settings.requestTimeoutMs,
              isIdempotent: true,
            });
          } catch (error) {
            throw await statementError(error, this.items.session, this.items.table);
          }
        }
      }),
    );
  }

  // --- the log ---

  bucketOf(id: number): number {
    return Math.floor(id / this.layout.logBucketSize);
  }

  /** The first and last ids of a log partition (ids start at 1, so partition 0 has one fewer). */
  startOf(bucket: number): number {
    return Math.max(1, bucket * this.layout.logBucketSize);
  }
  endOf(bucket: number): number {
    return (bucket + 1) * this.layout.logBucketSize - 1;
  }

  /** A log partition's head: the last id in it (undefined when empty); SERIAL completes any round in flight. */
  async head(bucket: number, serial: boolean): Promise<number | undefined> {
    const result = await this.items.run(
      `SELECT head FROM ${this.log} WHERE bucket = ? LIMIT 1`,
      [bucket],
      serial ? this.codes.serial : this.codes.read,
    );
    const head = result.first()?.get('head') as types.Long | null | undefined;
    return head == null ? undefined : toNumber(head);
  }

  /**
   * The last id of the log (0 when empty), found by following partition heads from the partition of
   * `from` (an id known to be at most the tail + 1): a partition is full before the next one opens.
   */
  async tail(from: number, serial: boolean): Promise<number> {
    for (let bucket = this.bucketOf(Math.max(1, from)); ; bucket++) {
      const head = await this.head(bucket, serial);
      if (head === undefined) return this.startOf(bucket) - 1;
      if (head < this.endOf(bucket)) return head;
    }
  }

  /**
   * Up to `limit` notifications from id `start`, in id order, contiguous: the read stops at the first
   * id it does not find, and goes on to the next partition only after reading this one to its end.
   */
  async read(start: number, limit: number): Promise<Notification[]> {
    const out: Notification[] = [];
    let next = Math.max(1, start);
    while (out.length < limit) {
      const bucket = this.bucketOf(next);
      const want = Math.min(limit - out.length, this.endOf(bucket) - next + 1);
      for await (const page of this.items.pages(
        `SELECT id, sequence_id, position, topic, data FROM ${this.log} WHERE bucket = ? AND id >= ? AND id <= ? LIMIT ?`,
        [bucket, next, this.endOf(bucket), Math.min(want, MAX_INT)],
        Math.min(want, this.items.settings.fetchSize),
      ))
        for (const row of page) {
          const id = toNumber(row.get('id'));
          if (id !== next) return out; // never skip an id (defensive: a partition's ids are contiguous)
          out.push(
            new NotificationItem(
              id,
              row.get('sequence_id') as string,
              toNumber(row.get('position')),
              row.get('topic') as string,
              row.get('data') as string,
            ),
          );
          next += 1;
        }
      if (next <= this.endOf(bucket)) return out; // this partition ends before its range does
    }
    return out;
  }

  /**
   * Appends `entries` as ids tail+1..tail+n, all in one log partition, with one conditional batch fenced
   * by the partition's head: `IF head = tail` (or, for a partition's first chunk, `IF NOT EXISTS`, the
   * previous partition being full). Of several chunks expecting the same tail, at most one is applied.
   * 'unknown': a timeout or lost connection; the caller re-reads the log (SERIAL) before going on.
   */
  async appendChunk(tail: number, entries: readonly LogEntry[], chunk: types.Uuid): Promise<ChunkOutcome> {
    const first = tail + 1;
    const last = tail + entries.length;
    const bucket = this.bucketOf(first);
    if (this.bucketOf(last) !== bucket) throw new RangeError('a chunk must lie in one log partition');
    const fence =
      first === this.startOf(bucket)
        ? {
            query: `INSERT INTO ${this.log} (bucket, head) VALUES (?, ?) IF NOT EXISTS`,
            params: [bucket, last],
          }
        : {
            query: `UPDATE ${this.log} SET head = ? WHERE bucket = ? IF head = ?`,
            params: [last, bucket, tail],
          };
    const rows = entries.map((entry, i) => ({
      query: `INSERT INTO ${this.log} (bucket, id, sequence_id, position, topic, data, chunk) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      params: [bucket, first + i, entry.sequenceId, entry.position, entry.topic, entry.data, chunk],
    }));
    const { settings } = this.items;
    try {
      const result = await this.items.session.client.batch([fence, ...rows], {
        prepare: true,
        logged: true,
        consistency: this.codes.write,
        serialConsistency: this.codes.serial,
        readTimeout: settings.requestTimeoutMs,
        isIdempotent: false,
        retry: NEVER_RETRY,
      });
      return result.wasApplied() ? 'applied' : 'lost';
    } catch (error) {
      if (outcomeMayBeUnknown(error)) return 'unknown';
      throw await statementError(error, this.items.session, this.items.table);
    }
  }

  // --- progress and watermark: registers that keep their highest value ---

  /**
   * The last position of a sequence copied into the log (-1: none), as far as the progress table
   * knows: exact for log ids below the watermark.
   */
  async readProgress(sequenceId: string): Promise<number> {
    const result = await this.items.run(
      `SELECT copied FROM ${this.progress} WHERE sequence_id = ?`,
      [sequenceId],
      this.codes.read,
    );
    const copied = result.first()?.get('copied') as types.Long | null | undefined;
    return copied == null ? -1 : toNumber(copied);
  }

  /**
   * Written with the value as its write timestamp, so that a late write of an older value (a slow
   * sequencer) never replaces a newer one: the cell is a register of its highest value.
   */
  async writeProgress(sequenceId: string, copied: number): Promise<void> {
    await this.items.run(
      `INSERT INTO ${this.progress} (sequence_id, copied) VALUES (?, ?) USING TIMESTAMP ?`,
      [sequenceId, copied, types.Long.fromNumber(copied + 1)],
      this.codes.write,
    );
  }

  /** The watermark: every log id below it has its progress written. 1 when none was written. */
  async readWatermark(): Promise<number> {
    const result = await this.items.run(
      `SELECT value FROM ${this.state} WHERE name = 'watermark'`,
      [],
      this.codes.read,
    );
    const value = result.first()?.get('value') as types.Long | null | undefined;
    return value == null ? 1 : toNumber(value);
  }

  async writeWatermark(value: number): Promise<void> {
    await this.items.run(
      `INSERT INTO ${this.state} (name, value) VALUES ('watermark', ?) USING TIMESTAMP ?`,
      [value, types.Long.fromNumber(value)],
      this.codes.write,
    );
  }

  // --- the lease: liveness only (one sequencer at a time, normally); safety rests on the log's fence ---

  /** Takes the lease when it is free or already ours, for `ttlSeconds`. True when held. */
  async claimLease(holder: string, ttlSeconds: number): Promise<boolean> {
    const renewed = await this.conditional(
      `UPDATE ${this.state} USING TTL ? SET holder = ? WHERE name = 'lease' IF holder = ?`,
      [ttlSeconds, holder, holder],
    );
    if (renewed) return true;
    return this.conditional(
      `INSERT INTO ${this.state} (name, holder) VALUES ('lease', ?) IF NOT EXISTS USING TTL ?`,
      [holder, ttlSeconds],
    );
  }

  async releaseLease(holder: string): Promise<void> {
    await this.conditional(`DELETE FROM ${this.state} WHERE name = 'lease' IF holder = ?`, [holder]);
  }

  /** Who holds the lease now (SERIAL), if anyone. */
  async leaseHolder(): Promise<string | undefined> {
    const result = await this.items.run(
      `SELECT holder FROM ${this.state} WHERE name = 'lease'`,
      [],
      this.codes.serial,
    );
    return (result.first()?.get('holder') as string | null | undefined) ?? undefined;
  }

  /** A lightweight transaction whose unknown outcome counts as not applied (the lease is only liveness). */
  private async conditional(cql: string, params: unknown[]): Promise<boolean> {
    try {
      const result = await this.items.session.client.execute(cql, params, {
        prepare: true,
        consistency: this.codes.write,
        serialConsistency: this.codes.serial,
        readTimeout: this.items.settings.requestTimeoutMs,
        isIdempotent: false,
        retry: NEVER_RETRY,
      });
      return result.wasApplied();
    } catch (error) {
      if (outcomeMayBeUnknown(error)) return false;
      throw await statementError(error, this.items.session, this.items.table);
    }
  }
}
