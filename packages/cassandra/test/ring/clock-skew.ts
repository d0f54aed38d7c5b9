/**
 * One node of the ring with its wall clock ahead (registered by ring.test.ts, after its other faults):
 * restarted on Cassandra's own clock hook (`pnpm cassandra ring restart N --clock-offset +5s`: the property
 * cassandra.clock names the tool's OffsetClock, which adds the offset to every wall-clock time Cassandra
 * reads, and leaves its monotonic time alone), it coordinates a third
 * of the writers' appends with Paxos ballots (and so write timestamps) seconds ahead of the others', and
 * is then restarted on the true clock while they go on, so that its ballots fall back behind those it
 * promised. docs/reliability.md, "(l) A node's clock skewed", reports what it showed.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type NodeConfig,
  findJava,
  findJavac,
  restartRingNode,
  ringNodeClockOffset,
  waitForRing,
} from '@es/cassandra-server';
import { AlreadyProcessedError } from '@es/core';
import { describeIfAvailable, requireServer } from '@es/testing/conformance';
import { Client, types } from 'cassandra-driver';
import {
  CassandraDatastore,
  CassandraSettings,
  CassandraTrackingRecorder,
  CqlIntegerSequencedItem,
  type CqlClient,
  type CqlSession,
} from '../../src/index.js';
import { testKeyspace } from '../helpers.js';
import {
  RING,
  acksBetween,
  dc1,
  env,
  expectSound,
  missing,
  readAtAll,
  readUntilTraced,
  ringAvailable,
  sleep,
  storeUrl,
  writeThrough,
} from './harness.js';

/**
 * How far ahead. Cassandra drops an internode message whose sender's clock says it expired (internode_timeout,
 * on by default): a node more than the gossip timeout (10 s) ahead or behind cannot even join (it failed
 * with "Unable to gossip with any peers" at +20 s); at +5 s it joins, and drops as expired the requests the
 * others send it (2 s for writes and Paxos, 5 s for reads), while theirs to its own requests arrive in time.
 */
const SKEW_SECONDS = 5;

// The tool compiles the skewed node's clock class with javac: under CI=true a machine without it fails this
// block.
const clockSkewAvailable =
  ringAvailable &&
  requireServer(
    'javac, to compile a ring node’s skewed clock',
    () => Boolean(findJavac(findJava())),
    'apt-get install openjdk-17-jdk-headless',
  );

/** A client whose every statement `node` coordinates (the driver's `host` option). */
async function pinnedTo(node: NodeConfig): Promise<{ client: Client; pinned: CqlClient }> {
  const contact = `${node.address}:${node.port}`;
  const client = new Client({ contactPoints: [contact], localDataCenter: node.dc });
  await client.connect();
  const host = client.hosts.get(contact)!;
  const pinned: CqlClient = {
    execute: ((query: string, params?: unknown, options?: object) =>
      client.execute(query, params as unknown[], { ...options, host })) as CqlClient['execute'],
    batch: ((queries: never, options?: object) =>
      client.batch(queries, { ...options, host })) as CqlClient['batch'],
  };
  return { client, pinned };
}

/** The node's clock as CQL sees it (`now()` is the coordinator's), minus this process's, in ms. */
async function clockOffsetMs(node: NodeConfig): Promise<number> {
  const { client, pinned } = await pinnedTo(node);
  try {
    const before = Date.now();
    const row = (
      await pinned.execute('SELECT toUnixTimestamp(now()) AS t FROM system.local', [], {
        consistency: types.consistencies.one,
      })
    ).first();
    const after = Date.now();
    return Number(row.get('t') as types.Long | Date) - (before + after) / 2;
  } finally {
    await client.shutdown();
  }
}

/** Cross-node messages the node dropped as expired, by verb, from its log's MessagingMetrics lines. */
function droppedCrossNode(logFile: string): Record<string, number> {
  const dropped: Record<string, number> = {};
  if (!existsSync(logFile)) return dropped;
  const pattern = /(\w+) messages were dropped in last \d+ ms: \d+ internal and (\d+) cross node/g;
  for (const [, verb, count] of readFileSync(logFile, 'utf8').matchAll(pattern))
    dropped[verb!] = (dropped[verb!] ?? 0) + Number(count);
  return dropped;
}

export function describeClockSkew(): void {
  describeIfAvailable(
    clockSkewAvailable,
    `a node of the ring '${RING}' with its clock skewed ${SKEW_SECONDS} s ahead`,
    () => {
      const keyspace = testKeyspace('skew');
      const victim = dc1[2]!;
      let setUp = false;
      /** A store for the schema changes: 60 s requests, as they are slow on a loaded machine. */
      const schemaStore = () =>
        new CassandraDatastore({
          settings: new CassandraSettings({
            url: storeUrl(keyspace).replace('requestTimeoutMs=5000', 'requestTimeoutMs=60000'),
          }),
          tables: [CqlIntegerSequencedItem],
        });

      afterAll(async () => {
        // The true clock again, whatever a failed test left.
        // Also when the node is not running (undefined): a failure mid-restart leaves it stopped.
        if (ringNodeClockOffset(RING, victim.address, env) !== 0)
          await restartRingNode(RING, victim.address, env, { clockOffsetSeconds: 0 });
        if (setUp) {
          const datastore = schemaStore();
          await datastore.setupConnection();
          await datastore.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
          await datastore.close();
        }
      }, 900_000);

      it(`its clock skewed ${SKEW_SECONDS} s ahead, then true again, during appends from 4 processes through it and two others: one winner per position, nothing acknowledged lost, typed errors only; tracking forgotten through another node is forgotten`, async () => {
        await waitForRing(RING, env);
        // Closed before the node restarts: a jest run that kept it open across them did not exit, with three
        // connections to the restarted node left open.
        const datastore = schemaStore();
        setUp = true;
        await datastore.setupConnection();
        try {
          await datastore.setupTables();
          await new CassandraTrackingRecorder({ datastore }).setupTable();
        } finally {
          await datastore.close();
        }
        // The tracking recorders below run at the writers' 5 s.
        const settings = new CassandraSettings({ url: storeUrl(keyspace) });

        const times: Record<string, number> = { restarting: Date.now() };
        await restartRingNode(RING, victim.address, env, { clockOffsetSeconds: SKEW_SECONDS });
        times.skewed = Date.now();
        expect(ringNodeClockOffset(RING, victim.address, env)).toBe(SKEW_SECONDS);
        // Inside Cassandra: now() on the skewed node runs SKEW_SECONDS ahead, on another node it does not.
        const offsets = { skewed: await clockOffsetMs(victim), other: await clockOffsetMs(dc1[0]!) };
        expect(Math.abs(offsets.skewed - SKEW_SECONDS * 1000)).toBeLessThan(1500);
        expect(Math.abs(offsets.other)).toBeLessThan(1500);

        // Tracking records written with the skewed node's ballots, forgotten through another node.
        const viaSkewed = await pinnedTo(victim);
        const viaOther = await pinnedTo(dc1[0]!);
        const tracking = { name: 'skew', ran: 0, maxAfterDelete: -1, refusedAgain: false };
        try {
          const recorder = (client: CqlClient) =>
            new CassandraTrackingRecorder({ session: { client, keyspace, settings } satisfies CqlSession });
          const skewed = recorder(viaSkewed.pinned);
          const other = recorder(viaOther.pinned);
          for (const notificationId of [1, 2, 3])
            await skewed.processWithTracking({ applicationName: tracking.name, notificationId }, () => {});
          await other.deleteTracking(tracking.name);
          tracking.maxAfterDelete = await other.maxTrackingId(tracking.name);
          await skewed.processWithTracking({ applicationName: tracking.name, notificationId: 1 }, () => {
            tracking.ran += 1;
          });
          tracking.refusedAgain = await other
            .processWithTracking({ applicationName: tracking.name, notificationId: 1 }, () => {
              tracking.ran += 1;
            })
            .then(
              () => false,
              (error: unknown) => error instanceof AlreadyProcessedError,
            );
        } finally {
          await viaSkewed.client.shutdown();
          await viaOther.client.shutdown();
        }

        const sequences = Array.from({ length: 6 }, () => randomUUID());
        const { outcomes, stored, report } = await writeThrough(
          { writers: 4, url: storeUrl(keyspace), sequences },
          async () => {
            times.writing = Date.now();
            await sleep(20_000);
            times.restoring = Date.now();
            // Its ballots now fall back SKEW_SECONDS behind those it promised before: the writers go on.
            await restartRingNode(RING, victim.address, env, { clockOffsetSeconds: 0 });
            times.restored = Date.now();
            await sleep(10_000);
          },
        );
        expect(ringNodeClockOffset(RING, victim.address, env)).toBe(0);
        const restoredOffset = await clockOffsetMs(victim);
        await readAtAll(keyspace, sequences);
        const held = await readUntilTraced(victim, keyspace, sequences);
        const figures = {
          skewSeconds: SKEW_SECONDS,
          restartSkewedSeconds: (times.skewed! - times.restarting!) / 1000,
          restoreSeconds: (times.restored! - times.restoring!) / 1000,
          offsetsMs: { ...offsets, restored: restoredOffset },
          tracking,
          whileSkewed: acksBetween(outcomes, times.writing!, times.restoring!),
          whileRestarting: acksBetween(outcomes, times.restoring!, times.restored!),
          afterRestore: acksBetween(outcomes, times.restored!, Date.now()),
          failures: outcomes
            .filter((o) => o.kind !== 'ack' && o.kind !== 'conflict' && 'at' in o)
            .map((o) => ('at' in o ? `${o.at - times.writing!} ${o.kind}` : '')),
          // The skewed run's log is one generation back after the restore.
          droppedWhileSkewed: droppedCrossNode(
            join(env.home, 'instances', victim.name, 'logs.prev', 'system.log'),
          ),
          lackedAfterAll: held === undefined ? 'unknown' : missing(held, stored),
        };
        console.log(`ring clock skew: ${JSON.stringify({ ...report, ...figures })}`);
        expectSound(report);
        expect(tracking).toEqual({ name: 'skew', ran: 1, maxAfterDelete: 0, refusedAgain: true });
        expect(figures.whileSkewed).toBeGreaterThan(0);
        expect(figures.afterRestore).toBeGreaterThan(0);
        expect(Math.abs(restoredOffset)).toBeLessThan(1500);
        expect(held).toEqual(stored);
      }, 1_200_000);
    },
  );
}
