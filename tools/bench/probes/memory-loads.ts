/**
 * The bench's in-memory load scenario (scenario 5 without the snapshot part), in CPU µs per load of a
 * 10,000-event stream: each round a fresh store, the stream written in 100-event batches (not timed), 10
 * loads of warm-up, then LOADS measured (`EventSourcedRepository.get` through the bench's library
 * adapter). process.cpuUsage: this process, every thread, GC included. Not a test: run it on two
 * checkouts, alternately, for a before/after.
 *
 *     cd tools/bench && npx tsx probes/memory-loads.ts [ROUNDS=5 LOADS=100]
 *     MARK=1 ROUNDS=1 node --trace-deopt --import tsx probes/memory-loads.ts   (V8's deopts, the measured part marked)
 */
import { randomUUID } from 'node:crypto';
import { libraryInMemory } from '../src/adapters/library-in-memory.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const LOADS = Number(process.env.LOADS ?? 100);
const LENGTH = 10_000;
let counter = 0;
const cpu = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const results: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const adapter = libraryInMemory();
  await adapter.open();
  const stream = randomUUID();
  for (let v = 0; v < LENGTH; v += 100)
    await adapter.append(
      stream,
      v,
      Array.from({ length: 100 }, (_, i) => ({
        created: v + i === 0,
        value: `load:${++counter}:`.padEnd(64, '.'),
      })),
    );
  for (let i = 0; i < 10; i++) await adapter.load(stream, false);
  if (process.env.MARK) console.log(`-- measured loads of round ${round} start`);
  const c0 = cpu();
  const t0 = performance.now();
  for (let i = 0; i < LOADS; i++)
    if ((await adapter.load(stream, false)) !== LENGTH) throw new Error('load: wrong version');
  const wall = performance.now() - t0;
  if (process.env.MARK) console.log(`-- measured loads of round ${round} end`);
  const used = (cpu() - c0) / LOADS;
  results.push(used);
  console.log(
    `round ${round}: ${used.toFixed(1)} cpu µs/load, ${(LOADS / (wall / 1000)).toFixed(1)} loads/s`,
  );
  await adapter.close();
}
results.sort((a, b) => a - b);
console.log(`median ${results[results.length >> 1]!.toFixed(1)} min ${results[0]!.toFixed(1)} cpu µs/load`);
