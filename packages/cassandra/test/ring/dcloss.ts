// HELD BACK from ring.test.ts (docs/reliability.md, (m)): it passed on its own (runs 1 and 5), but in
// the CI run from a clone, where datacenter2's restart needed its second start, every test passed and
// jest then did not exit (4 driver connections to the restarted datacenter2 nodes left open); the same
// happened in the helper's runs whose restarts failed. To run it: add
// `import { describeDatacenterLossBothSides } from './dcloss.js';` to ring.test.ts and the call
// `describeDatacenterLossBothSides();` between `describeRingFeed();` and `describeClockSkew();`, then, with the
// ring running, `ES_CASSANDRA_START_TIMEOUT=360 npx jest test/ring/ring.test.ts -t 'datacenter2 follower of the feed'`.
/**
 * datacenter2 lost whole while writers in both data centres append to the same sequences and a follower of
 * the feed reads datacenter2's own replicas (meant to run after ring.test.ts's other faults, so that no
 * two faults overlap). The writers of (i) and (k) (split.ts: SERIAL, QUORUM) append to a feed table;
 * the sequencer runs here at the datacenter1 writers' settings; the follower (feed.ts's followFeed)
 * reads at LOCAL_QUORUM in datacenter2, from a checkpoint, and resumes from its own after the restart.
 */
import { randomUUID } from 'node:crypto';
import { killRingNode, restartRingNode } from '@es/cassandra-server';
import { EsError, type Notification } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  FeedSequencer,
} from '../../src/index.js';
import { expectFeedExact, feedTable } from '../feed-helpers.js';
import { testKeyspace } from '../helpers.js';
import { acknowledgedItems, followFeed, hintsDrained } from './feed.js';
import {
  RING,
  dc1,
  dc2,
  env,
  expectSound,
  readAll,
  sleep,
  twoDcAvailable,
  twoDcUrl,
  writeThrough,
} from './harness.js';
import { type Outcome, checkLedger } from './ledger.js';
import { answered, bothDcUrl, inDc1, untilBothWrite } from './split.js';

const TABLE = 'dclossfeed';
const DOWN_MS = 8000;

export function describeDatacenterLossBothSides(): void {
  describeIfAvailable(
    twoDcAvailable,
    `writers in both data centres and a datacenter2 follower of the feed through datacenter2's loss on the ring '${RING}'`,
    () => {
      const keyspace = testKeyspace('dcloss');
      const table = feedTable(TABLE);
      let setup: CassandraDatastore | undefined;
      let sequencer: FeedSequencer | undefined;
      let following: FarFollower | undefined;
      let restarting: Promise<unknown> | undefined;

      afterAll(async () => {
        // Also after a timeout, when the test's own finally may not have run: the follower and the
        // sequencer stopped; then the ring left whole: a restart under way is waited for (restartRingNode
        // only waits for a node that runs), then the nodes still down start together.
        await following?.stop();
        await sequencer?.stop();
        await restarting?.catch(() => undefined);
        await Promise.all(dc2.map((node) => restartRingNode(RING, node.address, env).catch(() => undefined)));
        try {
          await setup?.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
        } catch {
          // not connected, or the keyspace not there: nothing to drop
        }
        await setup?.close();
      }, 900_000);

      it('(m) writers of the same sequences in both data centres (SERIAL, QUORUM) and a follower of the feed in datacenter2 (LOCAL_QUORUM, from a checkpoint); datacenter2 SIGKILLed whole, restarted on its data: datacenter1 goes on (3 of 5), datacenter2 acknowledges nothing and fails typed, then resumes; one winner per position, nothing acknowledged lost (again after a read at ALL); the follower, resumed from its checkpoint, sees exactly the tail of the feed', async () => {
        const started = Date.now();
        const step = (what: string) =>
          process.stderr.write(`[ring dc loss] +${((Date.now() - started) / 1000).toFixed(1)} s ${what}\n`);
        setup = new CassandraDatastore({
          settings: new CassandraSettings({ url: bothDcUrl(keyspace, 'datacenter1', dc1) }),
          tables: [table],
        });
        await setup.setupConnection();
        await setup.setupTables();
        step('tables set up');
        const store = new CassandraActiveRecordStrategy({ datastore: setup, table });
        // In datacenter1, at the datacenter1 writers' levels: QUORUM and SERIAL stand on its 3 of 5 replicas.
        const sequencerErrors: string[] = [];
        sequencer = new FeedSequencer({
          table,
          datastore: setup,
          onError: (error) =>
            sequencerErrors.push(
              error instanceof EsError ? error.constructor.name : `untyped ${String(error)}`,
            ),
        });
        sequencer.start();
        const farFollower = new FarFollower(twoDcUrl(keyspace, 'datacenter2', dc2, '&requestTimeoutMs=5000'));
        following = farFollower;
        try {
          const sequences = Array.from({ length: 4 }, () => randomUUID());
          const times: Record<string, number> = {};
          let checkpoint = 0;
          let followedBeforeKill = 0;
          // Writers 1 and 3 in datacenter1, 2 and 4 in datacenter2 (as (i) and (k)).
          const { outcomes, report } = await writeThrough(
            {
              writers: 4,
              url: [bothDcUrl(keyspace, 'datacenter1', dc1), bothDcUrl(keyspace, 'datacenter2', dc2)],
              sequences,
              feedTable: TABLE,
              // A driver whose data centre's nodes all died has no control connection left to hear them
              // come back: it tries them on its reconnection schedule, by default 1 s doubling up to 10
              // min, which after a few minutes' outage waits minutes more (50 s after the restart in run 1).
              reconnectMs: 2000,
            },
            async (live) => {
              await untilBothWrite(live, 3);
              step('both data centres write');
              // The follower's checkpoint: the feed's tail as datacenter1 sees it once both sides wrote.
              const since = Date.now();
              while ((checkpoint = await store.maxNotificationId()) === 0 && Date.now() - since < 30_000)
                await sleep(250);
              await farFollower.start(checkpoint);
              while (farFollower.seen.length < 5 && Date.now() - since < 60_000) await sleep(250);
              followedBeforeKill = farFollower.seen.length;
              step(`followed in datacenter2 from ${checkpoint}: ${followedBeforeKill}; killing datacenter2`);
              times.killed = Date.now();
              const killed = await Promise.all(dc2.map((node) => killRingNode(RING, node.address, env)));
              expect(killed).toEqual(dc2.map(() => true));
              await sleep(DOWN_MS);
              times.restarting = Date.now();
              step('restarting datacenter2 (both nodes together)');
              restarting = Promise.all(dc2.map((node) => restartAgainOnce(node.address)));
              await restarting;
              times.restarted = Date.now();
              step('datacenter2 restarted');
              // The follower resumes from its checkpoint, on a new connection.
              await farFollower.resume();
              // Until datacenter2's writers are acknowledged again (their drivers try every 2 s), at most 90 s.
              const farAgain = () =>
                live.some(
                  (o) => o.kind === 'ack' && !inDc1(o) && 'startedAt' in o && o.startedAt > times.restarted!,
                );
              while (!farAgain() && Date.now() - times.restarted < 90_000) await sleep(500);
              times.farAgain = Date.now();
              step('datacenter2 writes again');
              await sleep(2000);
              times.stopped = Date.now();
            },
          );
          step('writers stopped');
          const drainSeconds = await hintsDrained(setup, table);
          // How far the follower in datacenter2 lags: seconds until it has the tail the feed has now.
          const tailAtStop = await store.maxNotificationId();
          const lagSeconds = await farFollower.until(tailAtStop - checkpoint, 120_000);
          const followedAtStop = farFollower.seen.length;
          // Every replica of both data centres answers a read at ALL (read repair fills datacenter2): the
          // ledger again on what it returns.
          const atAll = await readAtAllRetried(
            twoDcUrl(keyspace, 'datacenter1', dc1, '&readConsistency=ALL&requestTimeoutMs=30000'),
            sequences,
            table,
          );
          const afterAll = checkLedger(outcomes, atAll);
          step('read at ALL');
          const full = await expectFeedExact(store, sequences, acknowledgedItems(outcomes));
          step(`feed checked: ${full.length} notifications`);
          const tail = full.slice(checkpoint);
          const catchUp = await farFollower.until(tail.length, 120_000);
          const followed = await farFollower.stop();
          step(`followed in datacenter2: ${followed.length} of ${tail.length} in ${catchUp} s`);

          const {
            killed,
            restarting: restartedAt,
            restarted,
            stopped,
          } = times as Record<'killed' | 'restarting' | 'restarted' | 'stopped', number>;
          const phases = {
            before: [0, killed],
            down: [killed + 1000, restartedAt],
            restart: [restartedAt, restarted],
            after: [restarted, stopped],
          } as const;
          const perPhase = (near: boolean) =>
            Object.fromEntries(
              Object.entries(phases).map(([phase, [from, to]]) => [
                phase,
                answered(outcomes, 'ack', near, from, to),
              ]),
            );
          const farFailed = outcomes.filter(
            (o): o is Outcome & { at: number } =>
              !inDc1(o) &&
              o.kind !== 'ack' &&
              o.kind !== 'conflict' &&
              'at' in o &&
              o.at > killed &&
              o.at < restarted,
          );
          const figures = {
            acks: { dc1: perPhase(true), dc2: perPhase(false) },
            // The rule: nothing datacenter2 started while it was down is acknowledged (it has no node to ask).
            // Down until its nodes are launched again: a node may answer before its restart returns (run 4:
            // 2 appends acknowledged while the tool still waited for the nodes to join).
            farStartedWhileDown: outcomes.filter(
              (o) => o.kind === 'ack' && !inDc1(o) && o.startedAt > killed && o.startedAt < restartedAt,
            ).length,
            farFailures: countNames(farFailed.map((o) => o.kind)),
            checkpoint,
            notifications: full.length,
            followed: {
              beforeKill: followedBeforeKill,
              resumedAt: farFollower.resumedAt,
              // The feed's tail once the writers stopped and every hint was retired, and how long the
              // follower took to reach it; then the whole tail, after the checks.
              tailAtStop,
              followedAtStop,
              lagSeconds,
              total: followed.length,
              catchUpSeconds: catchUp,
              errors: countNames(farFollower.errors),
            },
            sequencerErrors: countNames(sequencerErrors),
            seconds: {
              down: (restartedAt - killed) / 1000,
              restart: (restarted - restartedAt) / 1000,
              farAgain: (times.farAgain! - restarted) / 1000,
              drain: drainSeconds,
              total: (Date.now() - started) / 1000,
            },
          };
          console.log(
            `ring dc loss, both sides: ${JSON.stringify({ ...report, afterAll: { stored: afterAll.stored, lost: afterAll.lost.length }, ...figures })}`,
          );
          expectSound(report); // one winner per position across both data centres, nothing lost, typed errors
          expectSound(afterAll);
          expect(afterAll.stored).toBeGreaterThanOrEqual(report.stored);
          expect(figures.acks.dc1.before).toBeGreaterThan(0);
          expect(figures.acks.dc2.before).toBeGreaterThan(0);
          expect(figures.acks.dc1.down).toBeGreaterThan(0); // SERIAL and QUORUM: 3 of 5, all in datacenter1
          expect(figures.farStartedWhileDown).toBe(0);
          expect(farFailed.length).toBeGreaterThan(0);
          expect(
            farFailed.filter((o) => !['unavailable', 'unknown', 'read-failed'].includes(o.kind)),
          ).toEqual([]);
          expect(figures.acks.dc2.after).toBeGreaterThan(0); // datacenter2 resumed
          // The follower in datacenter2: ids increasing, nothing skipped or repeated, exactly the tail.
          expect(checkpoint).toBeGreaterThan(0);
          expect(figures.followed.beforeKill).toBeGreaterThan(0);
          expect(followed.map((n) => n.id)).toEqual(tail.map((n) => n.id));
          expect(followed).toEqual(tail);
          expect(farFollower.errors.filter((e) => e.startsWith('untyped'))).toEqual([]);
          expect(sequencerErrors.filter((e) => e.startsWith('untyped'))).toEqual([]);
        } finally {
          await farFollower.stop();
          await sequencer.stop();
        }
        // datacenter2's restart took 220 s and 374 s at load 25-46 on the shared machine; about 100 s on a
        // quiet one.
      }, 900_000);
    },
  );
}

/**
 * Restarts a node on its data, and once more if that start fails: two JVMs starting together on a loaded
 * machine can miss Cassandra's gossip shadow round ("Unable to gossip with any peers": run 3 lost a node so).
 */
const restartAgainOnce = (address: string) =>
  restartRingNode(RING, address, env).catch((error: unknown) => {
    process.stderr.write(`[ring dc loss] ${address} did not start (${String(error)}): starting it again\n`);
    return restartRingNode(RING, address, env);
  });

const countNames = (names: readonly string[]) =>
  names.reduce<Record<string, number>>(
    (counts, name) => ({ ...counts, [name]: (counts[name] ?? 0) + 1 }),
    {},
  );

/** Every sequence read in full at the URL's level (ALL), tried again for 60 s while a replica counts as down. */
async function readAtAllRetried(
  url: string,
  sequences: readonly string[],
  table: ReturnType<typeof feedTable>,
) {
  const since = Date.now();
  for (;;) {
    try {
      return await readAll(url, sequences, table);
    } catch (error) {
      if (Date.now() - since > 60_000) throw error;
      await sleep(1000);
    }
  }
}

/**
 * A follower of the feed in datacenter2 (feed.ts's followFeed over a store there): started from a
 * checkpoint, and resumed from its own checkpoint (the last id it saw) on a new connection.
 */
class FarFollower {
  private datastore: CassandraDatastore | undefined;
  private follower: ReturnType<typeof followFeed> | undefined;
  private checkpoint = 0;
  /** What the sessions before the current one saw. */
  private readonly earlier: Notification[] = [];
  readonly errors: string[] = [];
  resumedAt = 0;

  constructor(private readonly url: string) {}

  get seen(): Notification[] {
    return [...this.earlier, ...(this.follower?.seen ?? [])];
  }

  async start(after: number): Promise<void> {
    this.checkpoint = after;
    this.datastore = new CassandraDatastore({ settings: new CassandraSettings({ url: this.url }) });
    await this.datastore.setupConnection();
    const store = new CassandraActiveRecordStrategy({ datastore: this.datastore, table: feedTable(TABLE) });
    this.follower = followFeed(store, after);
  }

  /** Stops following and closes the connection; then follows again from the last id seen. */
  async resume(): Promise<void> {
    await this.close();
    this.resumedAt = this.earlier[this.earlier.length - 1]?.id ?? this.checkpoint;
    await this.start(this.resumedAt);
  }

  /** Seconds until `count` notifications were followed, at most `ms`. */
  async until(count: number, ms: number): Promise<number> {
    const since = Date.now();
    while (this.seen.length < count && Date.now() - since < ms) await sleep(200);
    return (Date.now() - since) / 1000;
  }

  /** Everything every session saw. */
  async stop(): Promise<Notification[]> {
    await this.close();
    return this.earlier;
  }

  private async close(): Promise<void> {
    const follower = this.follower;
    this.follower = undefined;
    if (follower !== undefined) {
      this.earlier.push(...(await follower.stop()));
      this.errors.push(...follower.errors);
    }
    await this.datastore?.close();
    this.datastore = undefined;
  }
}
