/**
 * The ring's two data centres (registered by ring.test.ts, so that they never overlap its other faults): a
 * keyspace over both, and datacenter2 lost whole while writers in datacenter1 go on.
 */
import { randomUUID } from 'node:crypto';
import { type NodeConfig, killRingNode, restartRingNode } from '@es/cassandra-server';
import { ConcurrencyError, EsError, SequencedItem } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '../../src/index.js';
import { testKeyspace } from '../helpers.js';
import {
  RING,
  acksBetween,
  dc1,
  dc2,
  env,
  expectSound,
  missing,
  readAtAll,
  readFromNode,
  readUntilTraced,
  sleep,
  writeThrough,
  twoDcAvailable,
  twoDcUrl,
} from './harness.js';
import { type StoredItem, TOPIC } from './ledger.js';

export function describeDatacenters(): void {
  describeIfAvailable(twoDcAvailable, `a keyspace over two data centres of the ring '${RING}'`, () => {
    it('setupTables creates NetworkTopologyStrategy over both; the second holds the data and sees its positions taken', async () => {
      const keyspace = testKeyspace('twodc');
      const url = (dc: string, nodes: readonly NodeConfig[], extra = '') =>
        twoDcUrl(keyspace, dc, nodes, extra);
      const near = new CassandraDatastore({
        settings: new CassandraSettings({ url: url('datacenter1', dc1) }),
        tables: [CqlIntegerSequencedItem],
      });
      await near.setupConnection();
      try {
        await near.setupTables();
        const row = (
          await near.client.execute(
            'SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?',
            [keyspace],
          )
        ).first();
        expect(row.get('replication')).toEqual({
          class: 'org.apache.cassandra.locator.NetworkTopologyStrategy',
          datacenter1: '3',
          datacenter2: String(dc2.length),
        });
        const id = randomUUID();
        const items = [0, 1, 2].map((p) => new SequencedItem(id, p, TOPIC, `{"p":${p}}`));
        await new CassandraActiveRecordStrategy({ datastore: near, table: CqlIntegerSequencedItem }).append(
          items,
        );

        // The far data centre, on its own nodes: its replicas receive the writes (asynchronously).
        const far = new CassandraDatastore({
          settings: new CassandraSettings({ url: url('datacenter2', dc2, '&serialConsistency=SERIAL') }),
        });
        await far.setupConnection();
        try {
          const strategy = new CassandraActiveRecordStrategy({
            datastore: far,
            table: CqlIntegerSequencedItem,
          });
          const since = Date.now();
          let read = await strategy.getItems(id);
          while (read.length < items.length && Date.now() - since < 30_000) {
            await sleep(500);
            read = await strategy.getItems(id);
          }
          expect(read).toEqual(items);
          // A writer there at SERIAL (Paxos across both data centres) sees position 2 taken, and appends 3.
          await expect(strategy.append(new SequencedItem(id, 2, TOPIC, '{}'))).rejects.toThrow(
            ConcurrencyError,
          );
          await strategy.append(new SequencedItem(id, 3, TOPIC, '{"p":3}'));
        } finally {
          await far.close();
        }
      } finally {
        await near.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
        await near.close();
      }
    }, 120_000);

    it('datacenter2 lost whole (both nodes SIGKILLed) during appends in datacenter1: LOCAL_QUORUM goes on, EACH_QUORUM fails typed, nothing acknowledged lost; back, datacenter2 holds everything once read at ALL', async () => {
      await datacenterLost();
    }, 400_000);
  });
}

/** The store's URL in datacenter1 for a keyspace over both data centres; `extra` adds options. */
const bothUrl = (keyspace: string, extra = '') =>
  twoDcUrl(keyspace, 'datacenter1', dc1, `&requestTimeoutMs=5000${extra}`);

async function datacenterLost(): Promise<void> {
  const keyspace = testKeyspace('dclost');
  const setup = new CassandraDatastore({
    settings: new CassandraSettings({ url: bothUrl(keyspace) }),
    tables: [CqlIntegerSequencedItem],
  });
  await setup.setupConnection();
  try {
    await setup.setupTables();
    const sequences = Array.from({ length: 4 }, () => randomUUID());
    const times: Record<string, number> = {};
    const during: { probes?: Probes } = {};
    const { outcomes, stored, report } = await writeThrough(
      { writers: 3, url: bothUrl(keyspace), sequences },
      async () => {
        await sleep(2000);
        times.killed = Date.now();
        const killed = await Promise.all(dc2.map((node) => killRingNode(RING, node.address, env)));
        expect(killed).toEqual(dc2.map(() => true));
        await sleep(1000);
        during.probes = await probeWithoutDatacenter2(keyspace);
        await sleep(3000);
        times.stopped = Date.now();
      },
    );
    const whileLost = acksBetween(outcomes, times.killed! + 1000, times.stopped!);
    const failedWhileLost = outcomes.filter(
      (o) => o.kind !== 'ack' && o.kind !== 'conflict' && 'at' in o && o.at > times.killed!,
    ).length;

    times.restarting = Date.now();
    await Promise.all(dc2.map((node) => restartRingNode(RING, node.address, env)));
    const restartSeconds = (Date.now() - times.restarting) / 1000;
    // What the EACH_QUORUM append's refusal meant: a new append at its position succeeds only if it was not
    // applied (a Paxos round first completes any proposal the probe left accepted).
    const probes = during.probes!;
    const probeApplied = await positionTaken(keyspace, probes.sequence);

    // datacenter2's nodes, back: what hints gave them, then after every sequence is read at ALL (both data
    // centres answer; blocking read repair writes what a replica lacks), everything.
    const lackedAfterHints: (number | string)[] = [];
    for (const node of dc2) {
      const held = await readFromNode(node, keyspace, sequences);
      lackedAfterHints.push(held === undefined ? 'unknown' : missing(held, stored));
    }
    await readAtAll(keyspace, sequences);
    const held: (Map<string, StoredItem[]> | undefined)[] = [];
    for (const node of dc2) held.push(await readUntilTraced(node, keyspace, sequences));
    console.log(
      `ring datacenter lost: ${JSON.stringify({ ...report, whileLost, failedWhileLost, probes, probeApplied, restartSeconds, lackedAfterHints, lackedAfterAll: held.map((h) => (h === undefined ? 'unknown' : missing(h, stored))) })}`,
    );
    expectSound(report);
    expect(whileLost).toBeGreaterThan(0);
    // Cross-data-centre levels: QUORUM (3 of 5 replicas) still stands on datacenter1's three; EACH_QUORUM
    // cannot, and says so with a typed error; a refusal that says nothing was written is true.
    expect(probes.quorumRead).toBe('ok');
    expect(probes.eachQuorumRead).toBe('SettingsError'); // refused by the settings: reads at EACH_QUORUM are not offered
    expect(probes.eachQuorumAppend).toMatch(/^(StoreConnectionError|OutcomeUnknownError)$/);
    if (probes.eachQuorumAppend === 'StoreConnectionError') expect(probeApplied).toBe(false);
    for (const h of held) expect(h).toEqual(stored);
  } finally {
    // Leave the ring whole: restart what a failed run left down (a no-op for a running node).
    for (const node of dc2) await restartRingNode(RING, node.address, env).catch(() => undefined);
    await setup.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await setup.close();
  }
}

interface Probes {
  /** The sequence the EACH_QUORUM append tried position 0 of. */
  sequence: string;
  quorumRead: string;
  eachQuorumRead: string;
  eachQuorumAppend: string;
}

/** With datacenter2 down: a read at QUORUM, a read and an append at EACH_QUORUM; each 'ok' or its error's class. */
async function probeWithoutDatacenter2(keyspace: string): Promise<Probes> {
  const sequence = randomUUID();
  const attempt = async (extra: string, action: (s: CassandraActiveRecordStrategy) => Promise<unknown>) => {
    let datastore: CassandraDatastore | undefined;
    try {
      datastore = new CassandraDatastore({
        settings: new CassandraSettings({ url: bothUrl(keyspace, extra) }),
      });
      await datastore.setupConnection();
      await action(new CassandraActiveRecordStrategy({ datastore, table: CqlIntegerSequencedItem }));
      return 'ok';
    } catch (error) {
      if (!(error instanceof EsError)) throw error;
      return error.constructor.name;
    } finally {
      await datastore?.close();
    }
  };
  return {
    sequence,
    quorumRead: await attempt('&readConsistency=QUORUM', (s) => s.getItems(sequence)),
    eachQuorumRead: await attempt('&readConsistency=EACH_QUORUM', (s) => s.getItems(sequence)),
    eachQuorumAppend: await attempt('&writeConsistency=EACH_QUORUM', (s) =>
      s.append(new SequencedItem(sequence, 0, TOPIC, '{"probe":"each-quorum"}')),
    ),
  };
}

/** True when position 0 of `sequence` is taken: an append there at LOCAL_QUORUM is refused as a conflict. */
async function positionTaken(keyspace: string, sequence: string): Promise<boolean> {
  const datastore = new CassandraDatastore({ settings: new CassandraSettings({ url: bothUrl(keyspace) }) });
  await datastore.setupConnection();
  try {
    const strategy = new CassandraActiveRecordStrategy({ datastore, table: CqlIntegerSequencedItem });
    await strategy.append(new SequencedItem(sequence, 0, TOPIC, '{"probe":"after"}'));
    return false;
  } catch (error) {
    if (error instanceof ConcurrencyError) return true;
    throw error;
  } finally {
    await datastore.close();
  }
}
