/**
 * The bench's scenario 2 in memory (100-event batches, each to a new stream, through the bench's own
 * adapter), in CPU time per event: what a lever of the append path changes, readable on a loaded
 * machine (process.cpuUsage counts this process only, GC included). Not a test, not part of `pnpm
 * bench`: run it by hand, before and after, alternately.
 *
 *     cd tools/bench && npx tsx probes/memory-batch.ts [whole|parts|build] [ROUNDS=5 BATCHES=3000]
 *
 * whole: each round a fresh store, 300 batches of warm-up, then BATCHES measured (the bench's sizes),
 * the CPU µs per event and the wall-clock events/s of the appends alone, as the bench counts them.
 * parts: the same appends cut in three, each timed on its own: building the events (the bench's
 * classes), the mapper's `toSequencedItem` per event, and the strategy's `append` of the items.
 * build: the bench's event objects alone, nothing stored (a class's `new`, without the store's GC).
 * Profile one with `node --cpu-prof --import tsx probes/memory-batch.ts whole`.
 */
import { randomUUID } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import {
  EventStore,
  InMemoryActiveRecordStrategy,
  SequencedItemMapper,
  type VersionedEntityEvent,
} from '@es/core';
import type { EventSpec } from '../src/adapter.js';
import { libraryInMemory } from '../src/adapters/library-in-memory.js';
import { BenchEntity } from '../src/domain.js';

const mode = process.argv[2] ?? 'whole';
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BATCHES = Number(process.env.BATCHES ?? 3000);
const SIZE = 100;
let counter = 0;
const specs = (): EventSpec[] =>
  Array.from({ length: SIZE }, (_, i) => ({
    created: i === 0,
    value: `batch:${++counter}:`.padEnd(64, '.'),
  }));

/** Milliseconds of collector pauses (the main thread's) seen since the last `pauses()`. */
let paused = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) paused += entry.duration;
}).observe({ entryTypes: ['gc'] });
/** GC entries are delivered in a task of their own: let it run first. */
const pauses = async (): Promise<number> => {
  await new Promise((resolve) => setImmediate(resolve));
  const ms = paused;
  paused = 0;
  return ms;
};

const cpu = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

async function whole(): Promise<string> {
  const adapter = libraryInMemory();
  await adapter.open();
  for (let i = 0; i < BATCHES / 10; i++) await adapter.append(randomUUID(), 0, adapter.prepare(specs()));
  let used = 0;
  let wall = 0;
  await pauses();
  for (let i = 0; i < BATCHES; i++) {
    const events = adapter.prepare(specs());
    const stream = randomUUID();
    const c0 = cpu();
    const t0 = performance.now();
    await adapter.append(stream, 0, events);
    wall += performance.now() - t0;
    used += cpu() - c0;
  }
  await adapter.close();
  const n = BATCHES * SIZE;
  const gc = ((await pauses()) * 1000) / n;
  return `${(used / n).toFixed(3)} cpu µs/event (gc pauses ${gc.toFixed(3)}), ${Math.round(n / (wall / 1000)).toLocaleString('en')} events/s`;
}

function build(stream: string, list: readonly EventSpec[]): VersionedEntityEvent[] {
  return list.map((spec, i) =>
    spec.created
      ? new BenchEntity.Created({ originatorId: stream, originatorVersion: i, value: spec.value })
      : new BenchEntity.AttributeChanged({
          originatorId: stream,
          originatorVersion: i,
          name: 'value',
          value: spec.value,
        }),
  );
}

async function parts(): Promise<string> {
  const strategy = new InMemoryActiveRecordStrategy();
  const mapper = new SequencedItemMapper();
  const store = new EventStore({ activeRecordStrategy: strategy, sequencedItemMapper: mapper });
  for (let i = 0; i < BATCHES / 10; i++) await store.append(build(randomUUID(), specs()));
  let building = 0;
  let mapping = 0;
  let appending = 0;
  for (let i = 0; i < BATCHES; i++) {
    const list = specs();
    const stream = randomUUID();
    const c0 = cpu();
    const events = build(stream, list);
    const c1 = cpu();
    const items = events.map((event) => mapper.toSequencedItem(Object.freeze(event)));
    const c2 = cpu();
    await strategy.append(items);
    const c3 = cpu();
    building += c1 - c0;
    mapping += c2 - c1;
    appending += c3 - c2;
  }
  const n = BATCHES * SIZE;
  return `build ${(building / n).toFixed(3)}, toSequencedItem ${(mapping / n).toFixed(3)}, strategy append ${(appending / n).toFixed(3)} cpu µs/event`;
}

function buildOnly(): string {
  let used = 0;
  let kept = 0;
  for (let i = 0; i < BATCHES; i++) {
    const list = specs();
    const stream = randomUUID();
    const c0 = cpu();
    kept += build(stream, list).length;
    used += cpu() - c0;
  }
  return `build ${(used / kept).toFixed(3)} cpu µs/event`;
}

const run = { whole, parts, build: buildOnly }[mode];
if (run === undefined) throw new Error(`unknown mode ${mode}: whole, parts or build`);
for (let round = 0; round < ROUNDS; round++) console.log(mode, await run());
