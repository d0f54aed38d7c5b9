/**
 * CPU time per operation of @es in memory against Emmett, through the bench's own adapters: what a
 * lever changes, readable on a loaded machine, where wall-clock figures are not (process.cpuUsage counts
 * only this process's time; GC included). Not a test, not part of `pnpm bench`: run it by hand, on two
 * checkouts for a before/after.
 *
 *     cd tools/bench && npx tsx probes/memory.ts batch|load|snap [library,emmett]   (ROUNDS=5)
 *
 * batch: CPU µs per event of 100-event appends to new streams; load: CPU µs per load of a 10,000-event
 * stream (a new stream each round, 3 loads first); snap: the same from a snapshot (library only).
 */
import { randomUUID } from 'node:crypto';
import { libraryInMemory } from '../src/adapters/library-in-memory.js';
import { emmettInMemory } from '../src/adapters/emmett-in-memory.js';
import type { EventSpec } from '../src/adapter.js';

const what = process.argv[2] ?? 'batch';
const specs = (n: number): EventSpec[] =>
  Array.from({ length: n }, (_, i) => ({ created: i === 0, value: `v${i}:${randomUUID()}` }));

async function batch(a: any, batches: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < batches; i++) {
    const ev = a.prepare(specs(100));
    const id = randomUUID();
    const c0 = process.cpuUsage();
    await a.append(id, 0, ev);
    const c = process.cpuUsage(c0);
    total += c.user + c.system;
  }
  return total / (batches * 100); // CPU us per event
}
async function load(a: any, n: number, snap: boolean): Promise<number> {
  const s = randomUUID();
  for (let v = 0; v < 10000; v += 100)
    await a.append(s, v, a.prepare(specs(100).map((x, i) => ({ ...x, created: v + i === 0 }))));
  if (snap) await a.takeSnapshot(s);
  for (let i = 0; i < 3; i++) await a.load(s, snap);
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) if ((await a.load(s, snap)) !== 10000) throw new Error('bad');
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n; // CPU us per load
}
const impls = (process.argv[3] ?? 'library,emmett').split(',');
for (const impl of impls) {
  const a: any = impl === 'library' ? libraryInMemory() : emmettInMemory();
  await a.open();
  const r: number[] = [];
  for (let round = 0; round < Number(process.env.ROUNDS ?? 5); round++) {
    if (what === 'batch') r.push(await batch(a, 300));
    else if (what === 'load') r.push(await load(a, 20, false));
    else if (what === 'snap') {
      if (impl === 'emmett') break;
      r.push(await load(a, 500, true));
    }
  }
  r.sort((x, y) => x - y);
  console.log(
    impl,
    what,
    'median cpu us',
    (r[Math.floor(r.length / 2)] ?? 0).toFixed(2),
    r.map((x) => x.toFixed(2)).join(' '),
  );
}
