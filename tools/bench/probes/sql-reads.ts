/**
 * CPU and wall time per read of @es over SQL against the raw driver, through the bench's own adapters
 * (see probes/memory.ts for why CPU time: on a loaded machine the wall clock moves by 2x, this
 * process's CPU time much less). Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && npx tsx probes/sql-reads.ts sqlite|postgres|mysql load|snap|log [library,raw] [n]
 *
 * load: per load of a 10,000-event stream; snap: per load from a snapshot (the same stream); log: per
 * 1,000 notifications read from the start in pages of 1,000 (10,000 in all). Three rounds each, after a
 * warm-up. ES_POSTGRES_URL / ES_MYSQL_URL name the servers (a database of your own keeps other runs'
 * table drops away).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverUrl } from '@es/servers';
import type { BenchAdapter, EventSpec } from '../src/adapter.js';

const backend = process.argv[2] ?? 'sqlite';
const what = process.argv[3] ?? 'load';
const impls = (process.argv[4] ?? 'library,raw').split(',');
const n = Number(process.argv[5] ?? (what === 'snap' ? 2000 : 20));
const pg = serverUrl('postgres');
const my = serverUrl('mysql');
const dir = mkdtempSync(join(tmpdir(), 'es-sql-reads-'));

async function adapter(impl: string): Promise<BenchAdapter<unknown>> {
  const made: Record<string, Record<string, () => Promise<any>>> = {
    sqlite: {
      library: async () => (await import('../src/adapters/library-sqlite.js')).librarySqlite(dir),
      raw: async () => (await import('../src/adapters/raw-sqlite.js')).rawSqlite(dir),
    },
    postgres: {
      library: async () => (await import('../src/adapters/library-postgres.js')).libraryPostgres(pg),
      raw: async () => (await import('../src/adapters/raw-postgres.js')).rawPostgres(pg),
    },
    mysql: {
      library: async () => (await import('../src/adapters/library-mysql.js')).libraryMysql(my),
      raw: async () => (await import('../src/adapters/raw-mysql.js')).rawMysql(my),
    },
  };
  return made[backend]![impl]!();
}

const specs = (count: number, from: number): EventSpec[] =>
  Array.from({ length: count }, (_, i) => ({ created: from + i === 0, value: `v${i}:${randomUUID()}` }));

for (const impl of impls) {
  const a = await adapter(impl);
  await a.open();
  const stream = randomUUID();
  const length = 10_000;
  for (let v = 0; v < length; v += 100) await a.append(stream, v, a.prepare(specs(100, v)));
  if (what === 'snap') await a.takeSnapshot(stream);
  const once = async (): Promise<void> => {
    if (what === 'log') {
      if ((await a.readLog(length, 1000)) !== length) throw new Error('short log');
    } else if ((await a.load(stream, what === 'snap')) !== length) throw new Error('bad load');
  };
  for (let i = 0; i < Math.max(2, n / 10); i++) await once();
  const cpu: number[] = [];
  const wall: number[] = [];
  // Per operation, in µs; the log per 1,000 notifications.
  const per = what === 'log' ? n * (length / 1000) : n;
  for (let round = 0; round < 3; round++) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    for (let i = 0; i < n; i++) await once();
    const c = process.cpuUsage(c0);
    wall.push(((performance.now() - w0) * 1000) / per);
    cpu.push((c.user + c.system) / per);
  }
  const unit = what === 'log' ? 'µs per 1,000 notifications' : `µs per ${what}`;
  console.log(
    `${backend} ${impl} ${what}: cpu ${cpu.map((x) => x.toFixed(0)).join(' ')}, wall ${wall.map((x) => x.toFixed(0)).join(' ')} (${unit})`,
  );
  await a.close();
}
