/**
 * Writers of the same sequences in both of the ring's data centres (registered by ring.test.ts, after its
 * other faults): at SERIAL (Paxos over every replica of both data centres, as docs/cassandra.md asks of
 * writers of one sequence in several data centres) and QUORUM reads and writes; the data centres cut apart,
 * and a datacenter1 replica SIGKILLed and restarted.
 */
import { randomUUID } from 'node:crypto';
import { type NodeConfig, healPartitions, killRingNode, restartRingNode } from '@es/cassandra-server';
import { describeIfAvailable } from '@es/testing/conformance';
import { CassandraDatastore, CassandraSettings, CqlIntegerSequencedItem } from '../../src/index.js';
import { testKeyspace } from '../helpers.js';
import {
  RING,
  cutFor,
  dc1,
  dc2,
  env,
  expectSound,
  missing,
  partitionsAvailable,
  readAll,
  readAtAll,
  readUntilTraced,
  sleep,
  twoDcAvailable,
  twoDcUrl,
  writeThrough,
} from './harness.js';
import { type Outcome, checkLedger } from './ledger.js';

const CUT_MS = 20_000;

/** A writer's URL in data centre `dc`: SERIAL, QUORUM reads and writes, requests bounded at 5 s. */
export const bothDcUrl = (keyspace: string, dc: string, nodes: readonly NodeConfig[]) =>
  twoDcUrl(
    keyspace,
    dc,
    nodes,
    '&requestTimeoutMs=5000&serialConsistency=SERIAL&readConsistency=QUORUM&writeConsistency=QUORUM',
  );
/** Writers 1 and 3 in datacenter1, 2 and 4 in datacenter2 (writeThrough gives writer n URL n). */
export const inDc1 = (o: Outcome) => 'writer' in o && o.writer % 2 === 1;
/** Appends of `kind` from one side, answered between `from` and `to`. */
export const answered = (
  outcomes: readonly Outcome[],
  kind: string,
  near: boolean,
  from: number,
  to: number,
) =>
  outcomes.filter((o) => o.kind === kind && inDc1(o) === near && 'at' in o && o.at > from && o.at < to)
    .length;
/** Until both sides have acknowledged `count` appends (Paxos across data centres starts slowly), at most 60 s. */
export async function untilBothWrite(live: readonly Outcome[], count: number): Promise<void> {
  const since = Date.now();
  const acks = (near: boolean) => live.filter((o) => o.kind === 'ack' && inDc1(o) === near).length;
  while ((acks(true) < count || acks(false) < count) && Date.now() - since < 60_000) await sleep(500);
}

export function describeSplit(): void {
  describeIfAvailable(
    twoDcAvailable && partitionsAvailable,
    `the two data centres of the ring '${RING}' cut apart`,
    () => {
      it('writers of the same sequences in both data centres, at SERIAL and QUORUM; the data centres cut apart for 20 s: datacenter1 (3 of 5 replicas) goes on, datacenter2 acknowledges nothing and fails typed, one winner per position across both, nothing acknowledged lost; healed, datacenter2 writes again', async () => {
        const keyspace = testKeyspace('split');
        const url = (dc: string, nodes: readonly NodeConfig[]) => bothDcUrl(keyspace, dc, nodes);
        const setup = new CassandraDatastore({
          settings: new CassandraSettings({ url: url('datacenter1', dc1) }),
          tables: [CqlIntegerSequencedItem],
        });
        await setup.setupConnection();
        try {
          await setup.setupTables();
          const sequences = Array.from({ length: 4 }, () => randomUUID());
          const times: Record<string, number> = {};
          let drops: Record<string, number> = {};
          // Writers 1 and 3 in datacenter1, 2 and 4 in datacenter2.
          const { outcomes, report } = await writeThrough(
            { writers: 4, url: [url('datacenter1', dc1), url('datacenter2', dc2)], sequences },
            async (live) => {
              // Cut once both sides write (Paxos across data centres starts slowly on a loaded machine).
              await untilBothWrite(live, 3);
              const cut = await cutFor(dc1, dc2, CUT_MS);
              times.cut = cut.cut;
              times.healed = cut.healed;
              drops = cut.drops;
              // Until datacenter2 writes again (the cut-off side refuses for a while after a heal: its TCP
              // retransmissions back off, then gossip marks the others up), at most 60 s.
              const healed = cut.healed;
              const farAgain = () =>
                live.some((o) => o.kind === 'ack' && !inDc1(o) && 'at' in o && o.at > healed);
              while (!farAgain() && Date.now() - healed < 60_000) await sleep(500);
              await sleep(2000);
            },
          );
          const between = (kind: string, near: boolean, from: number, to: number) =>
            answered(outcomes, kind, near, from, to);
          const failed = (near: boolean, from: number, to: number) =>
            outcomes.filter(
              (o) =>
                o.kind !== 'ack' &&
                o.kind !== 'conflict' &&
                inDc1(o) === near &&
                'at' in o &&
                o.at > from &&
                o.at < to,
            ).length;
          const cut = times.cut!;
          const healed = times.healed!;
          // The rule: no append datacenter2 started during the cut is acknowledged (2 of 5 replicas). An
          // append started before it may have had its quorum and still be answered later.
          const farStartedInCut = outcomes.filter(
            (o) =>
              o.kind === 'ack' && !inDc1(o) && 'startedAt' in o && o.startedAt > cut && o.startedAt < healed,
          ).length;
          const figures = {
            farStartedInCut,
            dc1Before: between('ack', true, 0, cut),
            dc2Before: between('ack', false, 0, cut),
            // From 1 s in (for the report: an append started before the cut may be answered after it).
            dc1WhileCut: between('ack', true, cut + 1000, healed),
            dc2WhileCut: between('ack', false, cut + 1000, healed),
            dc2FailedWhileCut: failed(false, cut, healed),
            dc1AfterHeal: between('ack', true, healed, Date.now()),
            dc2AfterHeal: between('ack', false, healed, Date.now()),
            drops,
          };
          const farDuringCut = outcomes
            .filter((o) => !inDc1(o) && 'at' in o && o.at > cut - 2000 && o.at < healed + 2000)
            .map((o) => ('at' in o ? `${o.at - cut} ${o.kind}` : ''));
          console.log(`ring split: ${JSON.stringify({ ...report, ...figures, farDuringCut })}`);
          expectSound(report); // one winner per position across both data centres, nothing lost, typed errors
          expect(figures.dc1Before).toBeGreaterThan(0);
          expect(figures.dc2Before).toBeGreaterThan(0);
          expect(figures.dc1WhileCut).toBeGreaterThan(0); // 3 of 5 replicas: a quorum on its own
          expect(figures.farStartedInCut).toBe(0); // 2 of 5: no quorum
          expect(figures.dc2FailedWhileCut).toBeGreaterThan(0);
          expect(figures.dc2AfterHeal).toBeGreaterThan(0);
          expect(drops['a-to-b']).toBeGreaterThan(0);
          expect(drops['b-to-a']).toBeGreaterThan(0);
        } finally {
          healPartitions();
          await setup.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
          await setup.close();
        }
      }, 300_000);
    },
  );
}

export function describeTwoDcNodeKill(): void {
  describeIfAvailable(
    twoDcAvailable,
    `writers in both data centres of the ring '${RING}' during a node kill`,
    () => {
      it('writers of the same sequences in both data centres, at SERIAL and QUORUM; a datacenter1 replica SIGKILLed mid-run and restarted while they write: both data centres go on (4 of 5 replicas), one winner per position across both, typed errors only, nothing acknowledged lost (read at ALL after); the restarted node holds everything', async () => {
        const keyspace = testKeyspace('dckill');
        const url = (dc: string, nodes: readonly NodeConfig[]) => bothDcUrl(keyspace, dc, nodes);
        const victim = dc1[2]!;
        const setup = new CassandraDatastore({
          settings: new CassandraSettings({ url: url('datacenter1', dc1) }),
          tables: [CqlIntegerSequencedItem],
        });
        await setup.setupConnection();
        try {
          await setup.setupTables();
          const sequences = Array.from({ length: 4 }, () => randomUUID());
          const times: Record<string, number> = {};
          const { outcomes, report } = await writeThrough(
            { writers: 4, url: [url('datacenter1', dc1), url('datacenter2', dc2)], sequences },
            async (live) => {
              await untilBothWrite(live, 3);
              times.killed = Date.now();
              expect(await killRingNode(RING, victim.address, env)).toBe(true);
              await sleep(5000);
              times.restarting = Date.now();
              await restartRingNode(RING, victim.address, env); // the writers keep writing through the restart
              times.restarted = Date.now();
              await sleep(2000);
            },
          );
          // Nothing acknowledged lost, checked again after every replica of both data centres answered a read
          // at ALL (blocking read repair writes what one lacks): then the restarted node must hold it all.
          await readAtAll(keyspace, sequences);
          const stored = await readAll(url('datacenter1', dc1), sequences);
          const afterAll = checkLedger(outcomes, stored);
          const held = await readUntilTraced(victim, keyspace, sequences);
          const { killed, restarting, restarted } = times as Record<
            'killed' | 'restarting' | 'restarted',
            number
          >;
          const figures = {
            // From 1 s after the kill (an append answered just after it may have had its quorum before).
            dc1WhileDown: answered(outcomes, 'ack', true, killed + 1000, restarting),
            dc2WhileDown: answered(outcomes, 'ack', false, killed + 1000, restarting),
            dc1WhileRestarting: answered(outcomes, 'ack', true, restarting, restarted),
            dc2WhileRestarting: answered(outcomes, 'ack', false, restarting, restarted),
            restartSeconds: (restarted - restarting) / 1000,
            failures: outcomes
              .filter((o) => o.kind !== 'ack' && o.kind !== 'conflict' && 'at' in o)
              .map((o) => ('at' in o ? `${inDc1(o) ? 'dc1' : 'dc2'} ${o.at - killed} ${o.kind}` : '')),
            lackedAfterAll: held === undefined ? 'unknown' : missing(held, stored),
          };
          console.log(`ring two-DC writers, node kill: ${JSON.stringify({ ...report, ...figures })}`);
          expectSound(report); // one winner per position across both data centres, nothing lost, typed errors
          expectSound(afterAll);
          expect(afterAll.stored).toBeGreaterThanOrEqual(report.stored);
          expect(figures.dc1WhileDown).toBeGreaterThan(0); // 4 of 5 replicas: quorums stand on both sides
          expect(figures.dc2WhileDown).toBeGreaterThan(0);
          expect(held).toEqual(stored);
        } finally {
          await restartRingNode(RING, victim.address, env).catch(() => undefined);
          await setup.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
          await setup.close();
        }
      }, 500_000);
    },
  );
}
