/**
 * What the ring tests share (ring.test.ts runs them, one file so that no two faults overlap): the ring's
 * layout, the store's URL, writer processes, full reads, the ledger's invariants, and reads of what one node
 * holds itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type NodeConfig,
  groupsMismatch,
  healPartitions,
  partition,
  partitionDrops,
  partitionUnavailable,
  readRing,
  ringNodePid,
  ringNotRunning,
  toolEnvironment,
} from '@es/cassandra-server';
import { requireServer } from '@es/testing/conformance';
import { Client, types } from 'cassandra-driver';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
  type CqlTable,
} from '../../src/index.js';
import { feedTable } from '../feed-helpers.js';
import {
  type LedgerReport,
  type Outcome,
  type StoredItem,
  TOPIC,
  type WriterTask,
  checkLedger,
} from './ledger.js';

export const RING = process.env.ES_CASSANDRA_RING ?? 'ring';
export const START = 'pnpm cassandra ring start --nodes 5 --datacenters 2';
export const env = toolEnvironment();
export const ringAvailable = requireServer(
  `the Cassandra ring '${RING}'`,
  () => {
    const why = ringNotRunning(RING, env);
    if (why !== undefined) throw new Error(why);
    return true;
  },
  START,
);
export const ring = ringAvailable ? readRing(RING, env) : undefined;
export const dc1 = ring?.nodes.filter((node) => node.dc === 'datacenter1') ?? [];
export const dc2 = ring?.nodes.filter((node) => node.dc === 'datacenter2') ?? [];
// A ring of another layout (e.g. the tool's default, 3 nodes in one DC) runs what it can; the two-DC check
// needs the second DC, and CI starts it.
export const twoDcAvailable =
  ringAvailable &&
  requireServer(
    `a second data centre in the ring '${RING}'`,
    () => {
      if (dc2.length === 0)
        throw new Error(`its nodes are all in ${[...new Set(ring!.nodes.map((n) => n.dc))].join(', ')}`);
      return true;
    },
    `pnpm cassandra ring stop && ${START}`,
  );

// Partitions (iptables, root): under CI=true, where .ci/run installs iptables, a machine without them fails
// the ring's partition tests instead of skipping them.
export const partitionsAvailable =
  ringAvailable &&
  requireServer(
    'iptables network partitions',
    () => {
      const why =
        partitionUnavailable() ??
        groupsMismatch(
          ring!.nodes.map((config) => ({ config, pid: ringNodePid(RING, config.address, env) ?? -1 })),
        );
      if (why !== undefined) throw new Error(why);
      return true;
    },
    'run as root with iptables installed (apt-get install iptables), on a ring this tool started as root',
  );

export const hosts = (nodes: readonly NodeConfig[]) =>
  nodes.map((node) => `${node.address}:${node.port}`).join(',');
/** The store's URL: requests bounded at 5 s, so a dead replica costs a bounded wait. */
export const storeUrl = (keyspace: string, nodes: readonly NodeConfig[] = dc1) =>
  `cassandra://${hosts(nodes)}/${keyspace}?localDataCenter=datacenter1&replication=datacenter1:3&requestTimeoutMs=5000`;
/** A URL for a keyspace over both data centres (`datacenter1:3,datacenter2:<its nodes>`), from `dc`'s side. */
export const twoDcUrl = (keyspace: string, dc: string, nodes: readonly NodeConfig[], extra = '') =>
  `cassandra://${hosts(nodes)}/${keyspace}?localDataCenter=${dc}&replication=datacenter1:3,datacenter2:${dc2.length}${extra}`;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Cuts `sideA` off from `sideB` for `ms` (every rule in force at once: one iptables-restore transaction),
 * then heals: when the cut was in force and when it was healed, and the packets it dropped each way.
 */
export async function cutFor(
  sideA: readonly NodeConfig[],
  sideB: readonly NodeConfig[],
  ms: number,
): Promise<{ cut: number; healed: number; drops: Record<string, number> }> {
  partition(sideA, sideB);
  const cut = Date.now();
  let drops: Record<string, number> = {};
  try {
    await sleep(ms);
    drops = partitionDrops();
  } finally {
    healPartitions();
  }
  return { cut, healed: Date.now(), drops };
}
const root = join(__dirname, '../../../..');

/** Writer processes (writer.ts) appending to `sequences` until `stop()`, which returns every outcome. */
async function startWriters(
  count: number,
  urls: readonly string[],
  sequences: readonly string[],
  feedTable?: string,
  reconnectMs?: number,
) {
  const outcomes: Outcome[] = [];
  const children: ChildProcess[] = [];
  const exits: Promise<number | null>[] = [];
  const ready: Promise<void>[] = [];
  for (let writer = 1; writer <= count; writer++) {
    const task: WriterTask = {
      url: urls[(writer - 1) % urls.length]!,
      writer,
      sequences,
      ...(feedTable === undefined ? {} : { feedTable }),
      ...(reconnectMs === undefined ? {} : { reconnectMs }),
    };
    const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(__dirname, 'writer.ts')], {
      cwd: join(__dirname, '../..'),
      env: { ...process.env, ES_RING_WRITER: JSON.stringify(task) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    exits.push(new Promise((resolve) => child.once('exit', resolve)));
    ready.push(
      new Promise((resolve, reject) => {
        child.once('exit', (code) =>
          reject(new Error(`writer ${writer} exited (${code}) before it was ready`)),
        );
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const outcome = JSON.parse(line) as Outcome;
          outcomes.push(outcome);
          if (outcome.kind === 'ready') resolve();
        });
      }),
    );
  }
  await Promise.all(ready);
  return {
    outcomes,
    /** Closes the writers' stdin (each finishes its append in flight) and waits for them, at most 30 s. */
    async stop(): Promise<Outcome[]> {
      for (const child of children) child.stdin!.end();
      const timer = setTimeout(() => children.forEach((child) => child.kill('SIGKILL')), 30_000);
      const codes = await Promise.all(exits);
      clearTimeout(timer);
      expect(codes).toEqual(children.map(() => 0));
      return outcomes;
    },
    /**
     * Stops the writers at once. Their stdin is closed first: tsx's CLI runs the script in a grandchild,
     * which a SIGKILL of the child leaves running (appending, and holding jest open after a failed test);
     * it stops itself at the end of its stdin.
     */
    kill: () =>
      children.forEach((child) => {
        child.stdin!.end();
        child.kill('SIGKILL');
      }),
  };
}

/**
 * Writers (startWriters) appending while `fault` runs, then stopped (all killed if `fault` throws); every
 * sequence read back in full (at `readUrl`, by default the first URL) and checked against their outcomes.
 * With several URLs, writer n uses URL n (round robin): writers in several data centres. `fault` sees the
 * outcomes so far, as they come.
 */
/** The kill of every writeThrough's writers still running. */
const running = new Set<() => void>();

/**
 * Kills the writer processes of a writeThrough still running: one a test's time limit cut short (jest
 * goes on to afterAll while the test's promise, and its writers, run on). For an afterAll.
 */
export function killRunningWriters(): void {
  for (const kill of running) kill();
  running.clear();
}

export async function writeThrough(
  options: {
    writers: number;
    url: string | readonly string[];
    sequences: readonly string[];
    readUrl?: string;
    /** The writers append to this feed table (feed-helpers' feedTable layout) instead of the plain one. */
    feedTable?: string;
    /** The writers' drivers try a lost node again at this constant interval (WriterTask.reconnectMs). */
    reconnectMs?: number;
  },
  fault: (outcomes: readonly Outcome[]) => Promise<void>,
): Promise<{ outcomes: Outcome[]; stored: Map<string, StoredItem[]>; report: LedgerReport }> {
  const urls = typeof options.url === 'string' ? [options.url] : options.url;
  const writers = await startWriters(
    options.writers,
    urls,
    options.sequences,
    options.feedTable,
    options.reconnectMs,
  );
  running.add(writers.kill);
  let outcomes: Outcome[];
  try {
    await fault(writers.outcomes);
    outcomes = await writers.stop();
  } catch (error) {
    writers.kill();
    throw error;
  } finally {
    running.delete(writers.kill);
  }
  const table = options.feedTable === undefined ? CqlIntegerSequencedItem : feedTable(options.feedTable);
  const stored = await readAll(options.readUrl ?? urls[0]!, options.sequences, table);
  return { outcomes, stored, report: checkLedger(outcomes, stored) };
}

/** Every sequence read in full through a fresh store, at LOCAL_QUORUM (or the URL's level). */
export async function readAll(
  url: string,
  sequences: readonly string[],
  table: CqlTable<'integer'> = CqlIntegerSequencedItem,
): Promise<Map<string, StoredItem[]>> {
  const datastore = new CassandraDatastore({ settings: new CassandraSettings({ url }) });
  await datastore.setupConnection();
  try {
    const strategy = new CassandraActiveRecordStrategy({ datastore, table });
    const stored = new Map<string, StoredItem[]>();
    for (const sequence of sequences) {
      const items = await strategy.getItems(sequence);
      expect(items.every((item) => item.topic === TOPIC)).toBe(true);
      stored.set(
        sequence,
        items.map(({ position, data }) => ({ position, data })),
      );
    }
    return stored;
  } finally {
    await datastore.close();
  }
}

/** The invariants of every fault run: nothing acknowledged lost, one winner per position, typed errors only. */
export function expectSound(report: LedgerReport): void {
  expect(report.lost).toEqual([]);
  expect(report.doubleWinners).toEqual([]);
  expect(report.writtenButRefused).toEqual([]);
  expect(report.phantoms).toEqual([]);
  expect(report.gaps).toEqual([]);
  expect(report.counts.untyped).toBe(0);
  expect(report.counts['read-untyped']).toBe(0);
  expect(report.counts.ack).toBeGreaterThan(0);
  expect(report.counts.conflict).toBeGreaterThan(0); // the writers did contend
}

export const acksBetween = (outcomes: readonly Outcome[], from: number, to: number) =>
  outcomes.filter((o) => o.kind === 'ack' && o.at > from && o.at < to).length;

/**
 * What `node` itself holds of each sequence: a read at ONE that `node` coordinates, traced, and kept only
 * if the trace shows no other node took part (so it was served from `node`'s own storage, without nodetool):
 * undefined when one did.
 */
export async function readFromNode(
  node: NodeConfig,
  keyspace: string,
  sequences: readonly string[],
): Promise<Map<string, StoredItem[]> | undefined> {
  const contact = `${node.address}:${node.port}`;
  const client = new Client({ contactPoints: [contact], localDataCenter: node.dc });
  await client.connect();
  try {
    const host = client.hosts.get(contact)!;
    const others = ring!.nodes.filter((n) => n.address !== node.address).map((n) => n.address);
    const held = new Map<string, StoredItem[]>();
    for (const sequence of sequences) {
      const result = await client.execute(
        `SELECT position, data FROM ${keyspace}.${CqlIntegerSequencedItem.tableName} WHERE sequence_id = ? AND bucket = 0`,
        [sequence],
        { host, consistency: types.consistencies.one, prepare: true, traceQuery: true },
      );
      const trace = await client.metadata.getTrace(result.info.traceId, types.consistencies.one);
      const events = trace.events as { source: unknown; activity: string }[];
      if (events.length === 0) throw new Error(`no trace events for a read from ${node.address}`);
      const foreign = events.filter(
        (event) =>
          String(event.source) !== node.address || others.some((address) => event.activity.includes(address)),
      );
      // Another replica took part: this read proves nothing about what the node holds itself.
      if (foreign.length > 0) return undefined;
      held.set(
        sequence,
        result.rows.map((row) => ({
          position: Number(row.get('position')),
          data: row.get('data') as string,
        })),
      );
    }
    return held;
  } finally {
    await client.shutdown();
  }
}

/** What `node` holds (readFromNode), retried while a read's trace shows another node took part. */
export async function readUntilTraced(
  node: NodeConfig,
  keyspace: string,
  sequences: readonly string[],
): Promise<Map<string, StoredItem[]> | undefined> {
  let held = await readFromNode(node, keyspace, sequences);
  for (let tries = 0; held === undefined && tries < 10; tries++) {
    await sleep(1000);
    held = await readFromNode(node, keyspace, sequences);
  }
  return held;
}

/** How many of the stored items `held` lacks (or holds differently). */
export function missing(
  held: ReadonlyMap<string, readonly StoredItem[]>,
  stored: ReadonlyMap<string, readonly StoredItem[]>,
) {
  let count = 0;
  for (const [sequence, items] of stored) {
    const have = new Set((held.get(sequence) ?? []).map((item) => `${item.position} ${item.data}`));
    count += items.filter((item) => !have.has(`${item.position} ${item.data}`)).length;
  }
  return count;
}

/** Reads every sequence at ALL: each replica answers, and those that lack something are repaired first. */
export async function readAtAll(keyspace: string, sequences: readonly string[]): Promise<void> {
  const client = new Client({
    contactPoints: dc1.map((n) => `${n.address}:${n.port}`),
    localDataCenter: 'datacenter1',
  });
  await client.connect();
  try {
    // Tried again for up to 60 s: right after a restart or a heal a coordinator may still count a replica
    // down, and ALL then fails at once (Unavailable).
    const since = Date.now();
    for (const sequence of sequences) {
      for (;;) {
        try {
          await client.execute(
            `SELECT position, data FROM ${keyspace}.${CqlIntegerSequencedItem.tableName} WHERE sequence_id = ? AND bucket = 0`,
            [sequence],
            { consistency: types.consistencies.all, prepare: true, readTimeout: 30_000 },
          );
          break;
        } catch (error) {
          if (Date.now() - since > 60_000) throw error;
          await sleep(1000);
        }
      }
    }
  } finally {
    await client.shutdown();
  }
}

/**
 * A read at LOCAL_QUORUM that `node` alone coordinates: 'ok', or the driver's error name (a node cut off from
 * the others cannot gather a quorum: Unavailable, or a read timeout before its failure detector knows).
 */
export async function quorumReadVia(node: NodeConfig, keyspace: string, sequence: string): Promise<string> {
  const contact = `${node.address}:${node.port}`;
  const client = new Client({ contactPoints: [contact], localDataCenter: node.dc });
  await client.connect();
  try {
    await client.execute(
      `SELECT position FROM ${keyspace}.${CqlIntegerSequencedItem.tableName} WHERE sequence_id = ? AND bucket = 0`,
      [sequence],
      { host: client.hosts.get(contact)!, consistency: types.consistencies.localQuorum, prepare: true },
    );
    return 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'number'
      ? `${(error as Error).name} 0x${code.toString(16)}`
      : (error as Error).name;
  } finally {
    await client.shutdown();
  }
}
