/**
 * The bench's SQLite load scenario up to its loads from a snapshot, in one process and then in windows:
 * CPU and wall µs per load from a snapshot, window by window, to see how long an implementation takes
 * to reach its steady state (the bench times its loads from a snapshot after `snapshotWarmup` of them).
 * Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && npx tsx probes/snapshot-windows.ts library|raw [full loads 11] [per window 200] [windows 1] [events after the snapshot 0]
 *
 * As the bench: a 10,000-event stream written in appends of 100 (the scenario's own event values),
 * `full loads` loads without a snapshot, the snapshot, per/10 loads from it (the old warm-up), then the
 * windows. Run it under `node --trace-deopt --trace-osr --import tsx` to see what V8 does in each window
 * (it prints a marker line at the start of each).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchAdapter } from '../src/adapter.js';
import { librarySqlite } from '../src/adapters/library-sqlite.js';
import { rawSqlite } from '../src/adapters/raw-sqlite.js';
import { ScenarioRunner } from '../src/scenarios/runner.js';
import { FULL_SIZES } from '../src/scenarios/sizes.js';

const impl = process.argv[2] ?? 'library';
const fullLoads = Number(process.argv[3] ?? 11);
const per = Number(process.argv[4] ?? 200);
const windows = Number(process.argv[5] ?? 1);
const after = Number(process.argv[6] ?? 0);
const length = 10_000;
const dir = mkdtempSync(join(tmpdir(), 'es-snapshot-windows-'));
const adapter = (impl === 'library' ? librarySqlite(dir) : rawSqlite(dir)) as BenchAdapter<unknown>;
await adapter.open();
const runner = new ScenarioRunner(adapter, { ...FULL_SIZES }, { step() {} });
const stream = randomUUID();
for (let v = 0; v < length; v += 100) {
  const specs = Array.from({ length: 100 }, (_, i) => runner.spec(v + i === 0, 'load'));
  await runner.append(stream, v, adapter.prepare(specs));
}
for (let i = 0; i < fullLoads; i++) await adapter.load(stream, false);
await adapter.takeSnapshot(stream);
if (after > 0)
  await runner.append(
    stream,
    length,
    adapter.prepare(runner.streamSpecs(after, 'after').map((s) => ({ ...s, created: false }))),
  );
for (let i = 0; i < per / 10; i++) await adapter.load(stream, true);
const figures: string[] = [];
for (let w = 0; w < windows; w++) {
  console.log(`--- window ${w + 1}`);
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < per; i++)
    if ((await adapter.load(stream, true)) !== length + after) throw new Error('wrong version');
  const c = process.cpuUsage(c0);
  figures.push(
    `${((c.user + c.system) / per).toFixed(1)}/${(((performance.now() - w0) * 1000) / per).toFixed(1)}`,
  );
}
console.log(`${impl}, ${fullLoads} full loads, windows of ${per}: CPU/wall µs per load ${figures.join(' ')}`);
await adapter.close();
