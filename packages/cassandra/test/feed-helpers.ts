import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Notification } from '@es/core';
import type { Client, types } from 'cassandra-driver';
import {
  CassandraActiveRecordStrategy,
  type CassandraDatastore,
  type CqlClient,
  type CqlSession,
  CqlIntegerSequencedItem,
  type CqlTable,
} from '../src/index.js';

/**
 * The feed's fault tests: one table layout shared by the test files and their child processes, a
 * client wrapper that lets a test decide what a conditional batch does, child processes, and the
 * checks every fault test makes of the feed.
 */

/** Small buckets and log partitions, so that a few hundred items cross many boundaries. */
export function feedTable(name: string): CqlTable<'integer', true> {
  return CqlIntegerSequencedItem.withTableName(name)
    .withBucketSize(8)
    .withFeed({ shards: 4, logBucketSize: 16 });
}

/** Short request timeouts, so that a hint's horizon (deadline + timeout + skew) passes within seconds. */
export const REQUEST_TIMEOUT_MS = 4000;

export type BatchCall = Parameters<Client['batch']>[0];
export type BatchHook = (
  queries: BatchCall,
  send: () => Promise<types.ResultSet>,
) => Promise<types.ResultSet>;

/** A session whose conditional batches go through `hook` (reads and other statements go straight through). */
export function hookedSession(datastore: CassandraDatastore, hook: BatchHook): CqlSession {
  const real = datastore.client;
  const client: CqlClient = {
    execute: real.execute.bind(real) as CqlClient['execute'],
    batch: ((queries: BatchCall, options: Parameters<Client['batch']>[1]) =>
      hook(
        queries,
        () => real.batch(queries, options ?? {}) as unknown as Promise<types.ResultSet>,
      )) as CqlClient['batch'],
  };
  return { client, keyspace: datastore.settings.keyspace, settings: datastore.settings };
}

/** True when a batch is one of the feed log's chunks (else an append to the items table, or hints). */
export function isLogChunk(queries: BatchCall, table: CqlTable): boolean {
  const first = queries[0];
  const cql = typeof first === 'string' ? first : (first?.query ?? '');
  return cql.includes(`.${table.logTableName} `);
}

export function isItemAppend(queries: BatchCall, table: CqlTable): boolean {
  const first = queries[0];
  const cql = typeof first === 'string' ? first : (first?.query ?? '');
  return cql.includes(`.${table.tableName} `) && / IF /.test(cql);
}

/** A child process running test/feed-child.ts (with tsx), its stdout lines collected. */
export class Child {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  private waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  readonly exited: Promise<number | null>;

  /** Runs `script` (default: test/feed-child.ts) with `mode` and `args` as its arguments. */
  constructor(
    mode: string,
    args: readonly string[],
    env: Record<string, string>,
    script = path.join(__dirname, 'feed-child.ts'),
  ) {
    const root = path.resolve(__dirname, '../../..');
    this.process = spawn(
      process.execPath,
      // tsx as a loader in this very process (its CLI would run the script in a grandchild, which a
      // SIGKILL of the child would leave running); this package's tsconfig maps @es/* to their sources.
      [
        '--import',
        pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href,
        script,
        mode,
        ...args,
      ],
      {
        cwd: root,
        env: { ...process.env, ...env, TSX_TSCONFIG_PATH: path.join(__dirname, '../tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let buffer = '';
    this.process.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (w.match.test(line) ? (w.resolve(line), false) : true));
      }
    });
    let errors = '';
    this.process.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.process.on('exit', (code) => {
        if (code !== 0 && code !== null) this.lines.push(`EXIT ${code}: ${errors.slice(-2000)}`);
        for (const w of this.waiters) w.resolve(`EXIT ${code}`);
        resolve(code);
      }),
    );
  }

  /** The first line (already printed or to come) matching `match`; rejects after `timeoutMs`. */
  waitFor(match: RegExp, timeoutMs = 60_000): Promise<string> {
    const found = this.lines.find((line) => match.test(line));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no line matching ${match} within ${timeoutMs} ms: ${this.lines.slice(-5).join(' | ')}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          if (line.startsWith('EXIT')) reject(new Error(`child exited: ${this.lines.slice(-3).join(' | ')}`));
          else resolve(line);
        },
      });
    });
  }

  /** kill -9, and wait for the exit. */
  async kill(): Promise<void> {
    this.process.kill('SIGKILL');
    await this.exited;
  }

  /** Appends the child acknowledged: `ACK <sequence> <first> <count>` lines. */
  get acknowledged(): string[] {
    return this.lines
      .filter((line) => line.startsWith('ACK '))
      .flatMap((line) => {
        const [, id, first, count] = line.split(' ');
        return Array.from({ length: Number(count) }, (_, i) => `${id}/${Number(first) + i}`);
      });
  }
}

/** Every notification from id 1 on, in pages. */
export async function readAll(
  store: CassandraActiveRecordStrategy<any, 'integer', true>,
  start = 1,
): Promise<Notification[]> {
  const out: Notification[] = [];
  for (let next = start; ;) {
    const page = await store.selectNotifications(next, 250);
    out.push(...page);
    if (page.length < 250) return out;
    next = page[page.length - 1]!.id + 1;
  }
}

const key = (n: { sequenceId: string; position: number }) => `${n.sequenceId}/${n.position}`;

/**
 * What every fault test shows of the feed, once the sequencer has caught up:
 * - ids are 1..n, increasing, without a hole;
 * - every item of the given sequences is in the feed exactly once, with its data, and nothing else of
 *   them is (so: every acknowledged append, and no append that failed or proved absent);
 * - each acknowledged item is in it;
 * - a follower started from any checkpoint reads exactly the tail of the full read.
 */
export async function expectFeedExact(
  store: CassandraActiveRecordStrategy<any, 'integer', true>,
  sequenceIds: readonly string[],
  acknowledged: readonly string[],
): Promise<Notification[]> {
  const full = await readAll(store);
  expect(full.map((n) => n.id)).toEqual(full.map((_, i) => i + 1));
  const ours = new Set(sequenceIds);
  const inFeed = full.filter((n) => ours.has(n.sequenceId));
  const keys = inFeed.map(key);
  expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]); // no duplicate
  const stored: string[] = [];
  for (const id of sequenceIds)
    for (const item of await store.getItems(id)) stored.push(`${key(item)}=${item.data}`);
  expect(inFeed.map((n) => `${key(n)}=${n.data}`).sort()).toEqual(stored.sort());
  const feedKeys = new Set(keys);
  expect(acknowledged.filter((k) => !feedKeys.has(k))).toEqual([]);
  // Each sequence's items in the feed in position order.
  for (const id of sequenceIds) {
    const positions = inFeed.filter((n) => n.sequenceId === id).map((n) => n.position);
    expect(positions).toEqual(positions.map((_, i) => i));
  }
  for (const checkpoint of [
    0,
    1,
    Math.floor(full.length / 3),
    Math.floor(full.length / 2),
    full.length - 1,
    full.length,
  ])
    if (checkpoint >= 0) expect(await readAll(store, checkpoint + 1)).toEqual(full.slice(checkpoint));
  return full;
}

/** A follower polling the log while a test runs: what it saw, and whether ids ever went back or skipped. */
export function follow(store: CassandraActiveRecordStrategy<any, 'integer', true>) {
  let stop = false;
  const seen: Notification[] = [];
  const done = (async () => {
    let next = 1;
    while (!stop) {
      const page = await store.selectNotifications(next, 200);
      for (const n of page) seen.push(n);
      if (page.length > 0) next = page[page.length - 1]!.id + 1;
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    seen,
    /** Stops, and returns what it saw: ids 1, 2, 3... in order (a follower never sees a hole or a repeat). */
    async stop(): Promise<Notification[]> {
      stop = true;
      await done;
      return seen;
    },
  };
}

/** A strategy over the feed table for the parent process (its log reads need no catch-up). */
export function feedStore(
  datastore: CassandraDatastore,
  table: CqlTable<'integer', true>,
  session?: CqlSession,
) {
  return new CassandraActiveRecordStrategy({ table, datastore, ...(session ? { session } : {}) });
}
