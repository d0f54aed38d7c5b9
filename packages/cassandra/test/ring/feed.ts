/**
 * The Cassandra feed (FeedSequencer, docs/cassandra.md "The feed") followed on the ring while it is
 * partitioned and while a data centre is lost (registered by ring.test.ts, after its other faults, so that
 * no two faults overlap): a keyspace over both data centres at the ring's settings (LOCAL_QUORUM,
 * LOCAL_SERIAL), writer processes (writer.ts) appending single events and batches to a feed table, the
 * sequencer and two followers in this process.
 *
 * The sequencer runs here, as `openStore('...?feed=true')` runs it in an application's process: its pass
 * errors and its lease are in view, and the followers here wake on its append signal. A child process
 * would take the same requests to the same nodes (the faults are in the ring, not in the client
 * processes), and cost a process start on a loaded machine.
 */
import { randomUUID } from 'node:crypto';
import { healPartitions, killRingNode, restartRingNode, waitForRing } from '@es/cassandra-server';
import { EsError, type Notification, NotificationLogReader, SequencedItem } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import { types } from 'cassandra-driver';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  FeedSequencer,
} from '../../src/index.js';
import { expectFeedExact, feedTable } from '../feed-helpers.js';
import { testKeyspace } from '../helpers.js';
import {
  RING,
  acksBetween,
  cutFor,
  dc1,
  dc2,
  env,
  expectSound,
  partitionsAvailable,
  ring,
  sleep,
  twoDcAvailable,
  twoDcUrl,
  writeThrough,
} from './harness.js';
import { type Outcome, TOPIC } from './ledger.js';

const CUT_MS = 15_000;
const TABLE = 'ringfeed';

export function describeRingFeed(): void {
  describeIfAvailable(
    twoDcAvailable && partitionsAvailable,
    `the Cassandra feed on the ring '${RING}' during faults`,
    () => {
      it('followed from the start while a datacenter1 replica is cut off for 15 s, then datacenter2 is SIGKILLed whole and restarted: every acknowledged append in the feed once, nothing refused, ids 1..n without a hole for the follower, which saw exactly the full read; a follower from a checkpoint taken just before the cut sees exactly the tail', async () => {
        await feedThroughFaults();
      }, 600_000);
    },
  );
}

/** A follower of the feed through the public reader: re-reads from its last id after a failed read. */
export function followFeed(
  store: CassandraActiveRecordStrategy<SequencedItem, 'integer', true>,
  after: number,
) {
  const reader = new NotificationLogReader(store);
  const seen: Notification[] = [];
  const seenAt: number[] = [];
  const errors: string[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const before = seen.length;
      try {
        for await (const n of reader.read({ after: seen[seen.length - 1]?.id ?? after, pageSize: 200 })) {
          seen.push(n);
          seenAt.push(Date.now());
        }
      } catch (error) {
        errors.push(error instanceof EsError ? error.constructor.name : `untyped ${String(error)}`);
      }
      if (seen.length === before) await sleep(100);
    }
  })();
  return {
    seen,
    errors,
    /** Notifications this follower received between `from` and `to`. */
    between: (from: number, to: number) => seenAt.filter((at) => at > from && at < to).length,
    async stop(): Promise<Notification[]> {
      stop = true;
      await done;
      return seen;
    },
  };
}

/**
 * Seconds until every hint of `table` is retired (an absent append's hint after its horizon, deadline +
 * request timeout + skew): the sequencer has copied everything it ever will. At most 60 s, asserted.
 */
export async function hintsDrained(
  datastore: CassandraDatastore,
  table: ReturnType<typeof feedTable>,
): Promise<number> {
  const hints = async () =>
    (
      (
        await datastore.client.execute(
          `SELECT count(*) FROM ${datastore.settings.keyspace}.${table.hintsTableName}`,
        )
      )
        .first()
        ?.get('count') as types.Long
    ).toNumber();
  const since = Date.now();
  let left = await hints();
  while (left > 0 && Date.now() - since < 60_000) {
    await sleep(500);
    left = await hints();
  }
  expect(left).toBe(0);
  return (Date.now() - since) / 1000;
}

/** `sequence/position` of every item the writers' outcomes acknowledged (what expectFeedExact takes). */
export const acknowledgedItems = (outcomes: readonly Outcome[]) =>
  outcomes.flatMap((o) => (o.kind === 'ack' ? o.items.map((item) => `${o.sequence}/${item.position}`) : []));

async function feedThroughFaults(): Promise<void> {
  const started = Date.now();
  // Each step as it happens (a run that times out still shows where its time went).
  const step = (what: string) =>
    process.stderr.write(`[ring feed] +${((Date.now() - started) / 1000).toFixed(1)} s ${what}\n`);
  const keyspace = testKeyspace('ringfeed');
  const table = feedTable(TABLE);
  const url = twoDcUrl(keyspace, 'datacenter1', dc1, '&requestTimeoutMs=5000');
  const datastore = new CassandraDatastore({
    settings: new CassandraSettings({ url }),
    tables: [table],
  });
  await datastore.setupConnection();
  const sequencerErrors: string[] = [];
  const sequencer = new FeedSequencer({
    table,
    datastore,
    onError: (error) =>
      sequencerErrors.push(error instanceof EsError ? error.constructor.name : `untyped ${String(error)}`),
  });
  let follower: ReturnType<typeof followFeed> | undefined;
  let fromMiddle: ReturnType<typeof followFeed> | undefined;
  let restarted: Promise<unknown> | undefined;
  try {
    await datastore.setupTables();
    step('tables set up');
    const store = new CassandraActiveRecordStrategy({ datastore, table });
    sequencer.start();
    follower = followFeed(store, 0);
    const sequences = Array.from({ length: 4 }, () => randomUUID());
    const victim = dc1[2]!;
    const times: Record<string, number> = {};
    let drops: Record<string, number> = {};
    let checkpoint = 0;
    const { outcomes, report } = await writeThrough(
      { writers: 3, url, sequences, feedTable: TABLE },
      async (live) => {
        // Cut once appends are acknowledged and followed.
        const since = Date.now();
        while (
          (live.filter((o) => o.kind === 'ack').length < 5 || follower!.seen.length < 5) &&
          Date.now() - since < 60_000
        )
          await sleep(250);
        checkpoint = follower!.seen[follower!.seen.length - 1]?.id ?? 0;
        step(`writing and followed (checkpoint ${checkpoint}): cutting ${victim.address} off`);
        fromMiddle = followFeed(store, checkpoint);
        const cut = await cutFor(
          [victim],
          ring!.nodes.filter((node) => node !== victim),
          CUT_MS,
        );
        times.cut = cut.cut;
        times.healed = cut.healed;
        drops = cut.drops;
        step('healed');
        await waitForRing(RING, env);
        times.whole = Date.now();
        step('the ring is whole');
        await sleep(2000);
        times.killed = Date.now();
        const killed = await Promise.all(dc2.map((node) => killRingNode(RING, node.address, env)));
        expect(killed).toEqual(dc2.map(() => true));
        step('datacenter2 killed');
        await sleep(5000);
        times.stopped = Date.now();
      },
    );
    // datacenter2 restarted (minutes on a loaded machine) while the feed is checked as the faults left it;
    // then appends from this process, with the ring whole again, and the same checks once more.
    times.restarting = Date.now();
    step('writers stopped; restarting datacenter2');
    restarted = Promise.all(dc2.map((node) => restartRingNode(RING, node.address, env))).then(
      () => (times.restarted = Date.now()),
    );
    restarted.catch(() => undefined); // awaited below; a failure is reported there

    const drained = () => hintsDrained(datastore, table);
    const acknowledged = acknowledgedItems(outcomes);
    /** The feed's full read checked, and both followers caught up with it (at most 30 s). */
    const checkFeed = async (ids: readonly string[], acks: readonly string[]) => {
      const full = await expectFeedExact(store, ids, acks);
      const since = Date.now();
      while (
        (follower!.seen.length < full.length || fromMiddle!.seen.length < full.length - checkpoint) &&
        Date.now() - since < 30_000
      )
        await sleep(200);
      return full;
    };
    const drainSeconds = await drained();
    step('hints drained');
    const faulted = await checkFeed(sequences, acknowledged);
    step('feed checked');
    const followedAfterFaults = follower.seen.length;
    console.log(
      `ring feed, the faults over (datacenter2 restarting): ${JSON.stringify({ ...report, notifications: faulted.length, followed: followedAfterFaults, fromCheckpoint: fromMiddle!.seen.length, checkpoint, drainSeconds })}`,
    );
    expect(follower.seen).toEqual(faulted);
    expect(fromMiddle!.seen).toEqual(faulted.slice(checkpoint));

    await restarted;
    step('datacenter2 restarted');
    const after = randomUUID();
    const afterAcks: string[] = [];
    for (let position = 0; position < 6; position += 2) {
      await store.append(
        [0, 1].map((i) => new SequencedItem(after, position + i, TOPIC, `{"after":${position + i}}`)),
      );
      afterAcks.push(`${after}/${position}`, `${after}/${position + 1}`);
    }
    await drained();
    const full = await checkFeed([...sequences, after], [...acknowledged, ...afterAcks]);
    // Nothing refused in the feed (expectFeedExact holds the feed to what the sequences hold; this says it
    // of the refusals themselves).
    const inFeed = new Set(full.map((n) => `${n.sequenceId}@${n.position} ${n.data}`));
    const refusedInFeed = outcomes.flatMap((o) =>
      (o.kind === 'conflict' || o.kind === 'unavailable') && 'items' in o
        ? o.items.filter((item) => inFeed.has(`${o.sequence}@${item.position} ${item.data}`))
        : [],
    );
    const seen = await follower.stop();
    const tail = await fromMiddle!.stop();
    const figures = {
      ...report,
      notifications: full.length,
      followed: seen.length,
      followedAfterFaults,
      checkpoint,
      fromCheckpoint: tail.length,
      acks: {
        beforeCut: acksBetween(outcomes, 0, times.cut!),
        cutFrom10s: acksBetween(outcomes, times.cut! + 10_000, times.healed!),
        cut: acksBetween(outcomes, times.cut!, times.healed!),
        healToWhole: acksBetween(outcomes, times.healed!, times.whole!),
        dc2Down: acksBetween(outcomes, times.killed!, times.stopped!),
        afterRestart: afterAcks.length / 2,
      },
      followedDuring: {
        cut: follower.between(times.cut!, times.healed!),
        cutFrom10s: follower.between(times.cut! + 10_000, times.healed!),
        dc2Down: follower.between(times.killed!, times.stopped!),
        restart: follower.between(times.restarting!, times.restarted!),
      },
      followerErrors: follower.errors,
      sequencerErrors: sequencerErrors.reduce<Record<string, number>>(
        (counts, name) => ({ ...counts, [name]: (counts[name] ?? 0) + 1 }),
        {},
      ),
      failures: outcomes
        .filter((o) => o.kind !== 'ack' && o.kind !== 'conflict' && 'at' in o)
        .map((o) => ('at' in o ? `${o.at - times.cut!} ${o.kind}` : '')),
      drops,
      seconds: {
        cut: (times.healed! - times.cut!) / 1000,
        healToWhole: (times.whole! - times.healed!) / 1000,
        restart: (times.restarted! - times.restarting!) / 1000,
        drain: drainSeconds,
        total: (Date.now() - started) / 1000,
      },
    };
    console.log(`ring feed: ${JSON.stringify(figures)}`);
    expectSound(report); // nothing acknowledged lost, one winner per position, typed errors only
    expect(refusedInFeed).toEqual([]);
    expect(seen.map((n) => n.id)).toEqual(seen.map((_, i) => i + 1));
    expect(seen).toEqual(full);
    expect(checkpoint).toBeGreaterThan(0);
    expect(tail).toEqual(full.slice(checkpoint));
    expect(follower.errors.filter((e) => e.startsWith('untyped'))).toEqual([]);
    expect(fromMiddle!.errors.filter((e) => e.startsWith('untyped'))).toEqual([]);
    expect(sequencerErrors.filter((e) => e.startsWith('untyped'))).toEqual([]);
    expect(drops['a-to-b']).toBeGreaterThan(0);
    expect(drops['b-to-a']).toBeGreaterThan(0);
    expect(figures.acks.dc2Down).toBeGreaterThan(0);
    expect(figures.followedDuring.dc2Down).toBeGreaterThan(0);
  } finally {
    healPartitions();
    await follower?.stop();
    await fromMiddle?.stop();
    await sequencer.stop();
    // A restart under way is waited for first (restartRingNode only waits for a node that runs); then the
    // nodes still down start together.
    await restarted?.catch(() => undefined);
    await Promise.all(dc2.map((node) => restartRingNode(RING, node.address, env).catch(() => undefined)));
    await datastore.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await datastore.close();
  }
}
