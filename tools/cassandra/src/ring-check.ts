/**
 * `pnpm cassandra ring check`: proves a running ring does what the reliability tests need. A keyspace with
 * 3 replicas (or as many as there are nodes); writes at QUORUM; one node killed with SIGKILL; writes, a
 * lightweight transaction and reads at QUORUM still succeed; the node restarted on its data rejoins; every
 * row is then read back at ALL. Prints what happened, with times.
 */
import { randomBytes } from 'node:crypto';
import { Client, types } from 'cassandra-driver';
import { log } from './log.js';
import type { ToolEnvironment } from './options.js';
import { killRingNode, readRing, restartRingNode } from './ring.js';

export interface RingCheckReport {
  readonly replicas: number;
  readonly killed: string;
  readonly writtenBefore: number;
  /** Writes at QUORUM while the node was down: succeeded, failed. */
  readonly writtenWhileDown: { ok: number; failed: number };
  readonly lwtWhileDown: boolean;
  readonly readWhileDown: { rows: number; failed: number };
  readonly rejoinSeconds: number;
  readonly readAtAllAfter: { rows: number; failed: number };
}

export async function checkRing(name: string, env: ToolEnvironment, rows = 100): Promise<RingCheckReport> {
  const ring = readRing(name, env);
  if (ring.nodes.length < 3)
    throw new Error('ring check needs at least 3 nodes (a quorum that survives one loss)');
  const victim = ring.nodes.at(-1)!;
  const perDc = new Map<string, number>();
  for (const node of ring.nodes) perDc.set(node.dc, Math.min(3, (perDc.get(node.dc) ?? 0) + 1));
  const replication = [...perDc].map(([dc, n]) => `'${dc}': ${n}`).join(', ');
  const keyspace = `es_ring_check_${randomBytes(4).toString('hex')}`;
  const client = new Client({
    contactPoints: ring.nodes.map((node) => `${node.address}:${node.port}`),
    localDataCenter: ring.nodes[0]!.dc,
    queryOptions: { consistency: types.consistencies.quorum, serialConsistency: types.consistencies.serial },
    // No heartbeat: a node this check kills can close a connection in a way that leaves the driver's
    // heartbeat timer running after shutdown (see @es/servers' probe.ts), holding the command open ~60 s.
    pooling: { heartBeatInterval: 0 },
  });
  // The same row again is the same row: the driver may retry a write its coordinator died under on another
  // node (a request in flight on the killed node's socket fails with "Socket was closed" otherwise).
  const write = (id: number) =>
    client.execute(`INSERT INTO ${keyspace}.t (id, v) VALUES (?, ?)`, [id, `v${id}`], {
      prepare: true,
      isIdempotent: true,
    });
  // Reads by key, as the event stores read: a range scan at QUORUM waits for a replica that is down until
  // the coordinators' failure detectors convict it, where a read by key retries on another replica.
  const count = async (ids: readonly number[], consistency: number) => {
    const found = { rows: 0, failed: 0 };
    for (const id of ids) {
      try {
        const result = await client.execute(`SELECT v FROM ${keyspace}.t WHERE id = ?`, [id], {
          consistency,
          prepare: true,
        });
        found.rows += result.rowLength;
      } catch (error) {
        found.failed++;
        log(`read ${id} failed: ${(error as Error).message}`);
      }
    }
    return found;
  };
  const ids = (n: number) => Array.from({ length: n }, (_, i) => i);
  await client.connect();
  try {
    await client.execute(
      `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', ${replication}}`,
    );
    await client.execute(`CREATE TABLE ${keyspace}.t (id int PRIMARY KEY, v text)`);
    for (let id = 0; id < rows; id++) await write(id);
    log(`${rows} rows written at QUORUM (replication ${replication}); killing ${victim.address}`);

    await killRingNode(name, victim.address, env);
    const whileDown = { ok: 0, failed: 0 };
    for (let id = rows; id < 2 * rows; id++) {
      try {
        await write(id);
        whileDown.ok++;
      } catch (error) {
        whileDown.failed++;
        log(`write ${id} failed: ${(error as Error).message}`);
      }
    }
    const lwt = await client.execute(
      `INSERT INTO ${keyspace}.t (id, v) VALUES (?, ?) IF NOT EXISTS`,
      [-1, 'lwt'],
      {
        prepare: true,
      },
    );
    const readWhileDown = await count([-1, ...ids(2 * rows)], types.consistencies.quorum);
    log(
      `with ${victim.address} down: ${whileDown.ok} writes ok, ${whileDown.failed} failed; LWT applied: ` +
        `${lwt.wasApplied()}; ${readWhileDown.rows} rows read at QUORUM, ${readWhileDown.failed} reads failed`,
    );

    const rejoinSeconds = await restartRingNode(name, victim.address, env);
    const readAtAllAfter = await count([-1, ...ids(2 * rows)], types.consistencies.all);
    log(
      `${victim.address} back after ${rejoinSeconds.toFixed(1)} s; ${readAtAllAfter.rows} rows read at ALL, ` +
        `${readAtAllAfter.failed} reads failed`,
    );
    await client.execute(`DROP KEYSPACE ${keyspace}`);
    return {
      replicas: [...perDc.values()].reduce((a, b) => a + b, 0),
      killed: victim.address,
      writtenBefore: rows,
      writtenWhileDown: whileDown,
      lwtWhileDown: lwt.wasApplied(),
      readWhileDown,
      rejoinSeconds,
      readAtAllAfter,
    };
  } finally {
    await client.shutdown();
  }
}
