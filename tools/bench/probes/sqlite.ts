/**
 * CPU time per operation of @es on a SQLite file against better-sqlite3 alone, through the bench's own
 * adapters (see probes/memory.ts for why CPU time). Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && npx tsx probes/sqlite.ts snap|load|batch|single [library,raw] [n]
 *
 * snap: CPU µs per load from a snapshot (1,000-event stream); load: per load of a 10,000-event stream;
 * batch: per event of 100-event appends; single: per single-event append. Three rounds each.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { librarySqlite } from '../src/adapters/library-sqlite.js';
import { rawSqlite } from '../src/adapters/raw-sqlite.js';
import type { EventSpec } from '../src/adapter.js';

const what = process.argv[2] ?? 'snap';
const impls = (process.argv[3] ?? 'library,raw').split(',');
const n = Number(process.argv[4] ?? 2000);
const specs = (n: number, from: number): EventSpec[] =>
  Array.from({ length: n }, (_, i) => ({ created: from + i === 0, value: `v${i}:${randomUUID()}` }));
const dir = mkdtempSync(join(tmpdir(), 'es-micro-'));
const adapters: Record<string, any> = { library: librarySqlite(dir), raw: rawSqlite(dir) };
for (const impl of impls) {
  const a = adapters[impl];
  await a.open();
  if (what === 'batch' || what === 'single') {
    const size = what === 'batch' ? 100 : 1;
    const r: number[] = [];
    for (let round = 0; round < 3; round++) {
      let cpu = 0;
      for (let i = 0; i < n; i++) {
        const events = a.prepare(specs(size, 0));
        const id = randomUUID();
        const c0 = process.cpuUsage();
        if (!(await a.append(id, 0, events))) throw new Error('conflict');
        const c = process.cpuUsage(c0);
        cpu += c.user + c.system;
      }
      r.push(cpu / (n * size));
    }
    console.log(impl, what, 'cpu us/event', r.map((x) => x.toFixed(2)).join(' '));
    await a.close();
    continue;
  }
  const s = randomUUID();
  const len = what === 'snap' ? 1000 : 10000;
  for (let v = 0; v < len; v += 100) await a.append(s, v, a.prepare(specs(100, v)));
  if (what === 'snap') await a.takeSnapshot(s);
  const snap = what === 'snap';
  for (let i = 0; i < n / 10; i++) await a.load(s, snap);
  const r: number[] = [];
  for (let round = 0; round < 3; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) if ((await a.load(s, snap)) !== len) throw new Error('bad');
    const c = process.cpuUsage(c0);
    r.push((c.user + c.system) / n);
  }
  console.log(impl, what, 'cpu us/load', r.map((x) => x.toFixed(1)).join(' '));
  await a.close();
}
