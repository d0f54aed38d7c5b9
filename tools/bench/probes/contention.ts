/**
 * CPU time per acknowledged append of 8 writers contending on 10 streams in memory (the bench's
 * scenario 4, through the bench's adapters), @es against Emmett: readable on a loaded machine, where
 * wall-clock figures are not (process.cpuUsage counts this process only, GC included). Not a test, not
 * part of `pnpm bench`: run it by hand, on two checkouts for a before/after.
 *
 *     cd tools/bench && npx tsx probes/contention.ts [library,emmett]   (ROUNDS=5)
 */
import { randomUUID } from 'node:crypto';
import type { BenchAdapter, EventSpec } from '../src/adapter.js';
import { emmettInMemory } from '../src/adapters/emmett-in-memory.js';
import { libraryInMemory } from '../src/adapters/library-in-memory.js';
import { mulberry32 } from '../src/scenarios/contention.js';

const WRITERS = 8;
const STREAMS = 10;
const APPENDS = 2500;

const spec = (created: boolean, i: number): EventSpec => ({ created, value: `c:${i}:`.padEnd(64, '.') });

/** CPU µs per acknowledged append, and the conflicts seen. */
async function round(a: BenchAdapter<EventSpec>): Promise<[number, number]> {
  const streams = Array.from({ length: STREAMS }, () => randomUUID());
  for (const s of streams) await a.append(s, 0, a.prepare([spec(true, 0)]));
  let conflicts = 0;
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const random = mulberry32(w + 1);
      const events = a.prepare(Array.from({ length: APPENDS }, (_, i) => spec(false, i)));
      const known = new Map(streams.map((s) => [s, 1]));
      for (let i = 0; i < APPENDS;) {
        const s = streams[Math.floor(random() * STREAMS)]!;
        const version = known.get(s)!;
        if (await a.append(s, version, [events[i]!])) {
          known.set(s, version + 1);
          i += 1;
        } else {
          conflicts += 1;
          known.set(s, await a.streamVersion(s, version));
        }
      }
    }),
  );
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) / (WRITERS * APPENDS), conflicts];
}

for (const impl of (process.argv[2] ?? 'library,emmett').split(',')) {
  const a = (impl === 'library' ? libraryInMemory() : emmettInMemory()) as BenchAdapter<EventSpec>;
  await a.open();
  const r: number[] = [];
  let conflicts = 0;
  for (let i = 0; i < Number(process.env.ROUNDS ?? 5); i++) [r[i], conflicts] = await round(a);
  r.sort((x, y) => x - y);
  const median = r[Math.floor(r.length / 2)]!.toFixed(2);
  console.log(
    impl,
    'contention median cpu us per append',
    median,
    r.map((x) => x.toFixed(2)).join(' '),
    `(${conflicts} conflicts in the last round)`,
  );
}
