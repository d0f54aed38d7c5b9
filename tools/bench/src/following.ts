/**
 * `pnpm --filter @es/bench bench:following [--quick]`: following the log, @es beside Emmett 0.42 where
 * Emmett has the feature, on memory, SQLite (a file), PostgreSQL and MariaDB (servers from @es/servers'
 * table; one that does not answer is reported and left out).
 * - append-to-visible latency for a live subscriber, p50/p99: ours woken in process by the store's append
 *   signal, and polling (default settings: 100 ms, doubling to 2 s while idle), as a subscriber in another
 *   process; Emmett's consumer with a reactor, which polls in both cases (following-emmett.ts);
 * - projection throughput: catching up over a backlog into a SQL read model with tracking, events/s,
 *   the median of alternating rounds (@es, Emmett by default, Emmett with pullingFrequencyInMs 1).
 * Issue 14's target: ahead of Emmett by 1.5x (latency: Emmett's over ours; throughput: ours over Emmett's).
 * Prints the tables (following-table.ts) and the load average; docs/benchmarks.md records the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe, serverUrl } from '@es/servers';
import { type EmmettOpen, emmettMissing, emmettPostgres, emmettSqlite } from './following-emmett.js';
import { type EsSide, esMemory, esSql } from './following-es.js';
import { followingSizes } from './following-measure.js';
import { type FollowingRow, followingTables } from './following-table.js';
import { median } from './medians.js';

const TARGET = 1.5;
const quick = process.argv.includes('--quick');
const sizes = followingSizes(quick);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

/** One backend: latencies on each side, then catch-ups in alternating rounds. */
async function row(
  backend: string,
  es: EsSide,
  emmett: EmmettOpen | { missing: string },
): Promise<FollowingRow> {
  process.stderr.write(`following: ${backend}...\n`);
  try {
    const ours = await es.latency();
    if ('missing' in emmett) {
      const rounds: number[] = [];
      for (let r = 0; r < sizes.rounds; r++) rounds.push(await es.catchUp());
      return { backend, es: { ...ours, eventsPerSecond: median(rounds) }, emmett };
    }
    const consumer = await emmett.latency();
    const rounds = { es: [] as number[], emmett: [] as number[], unthrottled: [] as number[] };
    for (let r = 0; r < sizes.rounds; r++) {
      rounds.es.push(await es.catchUp());
      rounds.emmett.push(await emmett.catchUp());
      rounds.unthrottled.push(await emmett.catchUp(1));
    }
    return {
      backend,
      es: { ...ours, eventsPerSecond: median(rounds.es) },
      emmett: {
        consumer,
        eventsPerSecond: median(rounds.emmett),
        unthrottledEventsPerSecond: median(rounds.unthrottled),
      },
    };
  } finally {
    await es.close();
    if (!('missing' in emmett)) await emmett.close();
  }
}

async function main(): Promise<void> {
  const before = load();
  const rows: FollowingRow[] = [];
  rows.push(await row('memory', await esMemory(sizes), { missing: emmettMissing.memory }));
  const directory = mkdtempSync(join(tmpdir(), 'es-bench-following-'));
  try {
    const es = await esSql(`sqlite:${join(directory, 'bench.db')}`, sizes);
    rows.push(await row('sqlite', es, await emmettSqlite(sizes).catch(closing(es))));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  for (const backend of ['postgres', 'mysql'] as const) {
    const answer = await probe(backend);
    if (!answer.ok) {
      process.stdout.write(`${backend}: not answering (${answer.reason}), left out\n`);
      continue;
    }
    const url = serverUrl(backend);
    const es = await esSql(url, sizes);
    const emmett =
      backend === 'postgres'
        ? await emmettPostgres(url, sizes).catch(closing(es))
        : { missing: emmettMissing.mysql };
    rows.push(await row(backend, es, emmett));
  }
  process.stdout.write(
    `${followingTables(rows, TARGET)}\n\n${quick ? 'quick' : 'full'} sizes ${JSON.stringify(sizes)}; load average (1 / 5 / 15 min) before ${before}, after ${load()}\n`,
  );
}

/** Closes our side when Emmett's fails to open, then passes the failure on. */
const closing =
  (es: EsSide) =>
  async (error: unknown): Promise<never> => {
    await es.close();
    throw error;
  };

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:following: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
