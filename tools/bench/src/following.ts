/**
 * `pnpm --filter @es/bench bench:following [--quick]`: following the log, @es beside Emmett 0.42 where
 * Emmett has the feature, on memory, SQLite (a file), PostgreSQL and MariaDB (servers from @es/servers'
 * table; one that does not answer is reported and left out).
 * - append-to-visible latency for a live subscriber, p50/p99: ours woken in process by the store's append
 *   signal, and polling (default settings: 100 ms, doubling to 2 s while idle), as a subscriber in another
 *   process; Emmett's consumer with a reactor, which polls in both cases (following-emmett.ts);
 * - projection throughput: catching up over a backlog into a SQL read model with tracking, events/s.
 * Issue 14's target: ahead of Emmett by 1.5x (latency: Emmett's over ours; throughput: ours over Emmett's).
 * Prints the tables (following-table.ts) and the load average; docs/benchmarks.md records the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe, serverUrl } from '@es/servers';
import { emmettMissing, emmettPostgres, emmettSqlite } from './following-emmett.js';
import { esMemory, esSql } from './following-es.js';
import { followingSizes } from './following-measure.js';
import { type FollowingRow, followingTables } from './following-table.js';

const TARGET = 1.5;
const quick = process.argv.includes('--quick');
const sizes = followingSizes(quick);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

async function sqliteRow(): Promise<FollowingRow> {
  const directory = mkdtempSync(join(tmpdir(), 'es-bench-following-'));
  try {
    const es = await esSql(`sqlite:${join(directory, 'bench.db')}`, sizes);
    return { backend: 'sqlite', es, emmett: await emmettSqlite(sizes) };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const before = load();
  const rows: FollowingRow[] = [];
  const progress = (backend: string) => process.stderr.write(`following: ${backend}...\n`);
  progress('memory');
  rows.push({ backend: 'memory', es: await esMemory(sizes), emmett: { missing: emmettMissing.memory } });
  progress('sqlite');
  rows.push(await sqliteRow());
  for (const backend of ['postgres', 'mysql'] as const) {
    const answer = await probe(backend);
    if (!answer.ok) {
      process.stdout.write(`${backend}: not answering (${answer.reason}), left out\n`);
      continue;
    }
    progress(backend);
    const url = serverUrl(backend);
    const es = await esSql(url, sizes);
    const emmett =
      backend === 'postgres' ? await emmettPostgres(url, sizes) : { missing: emmettMissing.mysql };
    rows.push({ backend, es, emmett });
  }
  process.stdout.write(
    `${followingTables(rows, TARGET)}\n\n${quick ? 'quick' : 'full'} sizes ${JSON.stringify(sizes)}; load average (1 / 5 / 15 min) before ${before}, after ${load()}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:following: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
