/**
 * The ring's two data centres cut apart (registered by ring.test.ts, after its other faults), with writers
 * of the same sequences in both: at SERIAL (Paxos over every replica of both data centres, as
 * docs/cassandra.md asks of writers of one sequence in several data centres) and QUORUM reads and writes.
 */
import { randomUUID } from 'node:crypto';
import { type NodeConfig, healPartitions, partition, partitionDrops } from '@es/cassandra-server';
import { describeIfAvailable } from '@es/testing/conformance';
import { CassandraDatastore, CassandraSettings, CqlIntegerSequencedItem } from '../../src/index.js';
import { testKeyspace } from '../helpers.js';
import {
  RING,
  dc1,
  dc2,
  expectSound,
  partitionsAvailable,
  sleep,
  twoDcAvailable,
  twoDcUrl,
  writeThrough,
} from './harness.js';
import type { Outcome } from './ledger.js';

const CUT_MS = 20_000;

export function describeSplit(): void {
  describeIfAvailable(
    twoDcAvailable && partitionsAvailable,
    `the two data centres of the ring '${RING}' cut apart`,
    () => {
      it('writers of the same sequences in both data centres, at SERIAL and QUORUM; the data centres cut apart for 20 s: datacenter1 (3 of 5 replicas) goes on, datacenter2 acknowledges nothing and fails typed, one winner per position across both, nothing acknowledged lost; healed, datacenter2 writes again', async () => {
        const keyspace = testKeyspace('split');
        const url = (dc: string, nodes: readonly NodeConfig[]) =>
          twoDcUrl(
            keyspace,
            dc,
            nodes,
            '&requestTimeoutMs=5000&serialConsistency=SERIAL&readConsistency=QUORUM&writeConsistency=QUORUM',
          );
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
          const inDc1 = (o: Outcome) => 'writer' in o && o.writer % 2 === 1;
          // Writers 1 and 3 in datacenter1, 2 and 4 in datacenter2 (writeThrough gives writer n URL n).
          const { outcomes, report } = await writeThrough(
            { writers: 4, url: [url('datacenter1', dc1), url('datacenter2', dc2)], sequences },
            async (live) => {
              // Cut once both sides write (Paxos across data centres starts slowly on a loaded machine).
              const since = Date.now();
              const acks = (near: boolean) =>
                live.filter((o) => o.kind === 'ack' && inDc1(o) === near).length;
              while ((acks(true) < 3 || acks(false) < 3) && Date.now() - since < 60_000) await sleep(500);
              partition(dc1, dc2);
              times.cut = Date.now(); // every rule in force (one iptables-restore transaction)
              try {
                await sleep(CUT_MS);
                drops = partitionDrops();
              } finally {
                healPartitions();
              }
              times.healed = Date.now();
              // Until datacenter2 writes again (the cut-off side refuses for a while after a heal: its TCP
              // retransmissions back off, then gossip marks the others up), at most 60 s.
              const healed = times.healed;
              const farAgain = () =>
                live.some((o) => o.kind === 'ack' && !inDc1(o) && 'at' in o && o.at > healed);
              while (!farAgain() && Date.now() - healed < 60_000) await sleep(500);
              await sleep(2000);
            },
          );
          const between = (kind: string, near: boolean, from: number, to: number) =>
            outcomes.filter(
              (o) => o.kind === kind && inDc1(o) === near && 'at' in o && o.at > from && o.at < to,
            ).length;
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
