/**
 * The floor under the in-memory batch scenario: what the bench itself does per event, plus the least any
 * event store could do with JSON made at append time, in CPU µs per event (process.cpuUsage: this
 * process, every thread, GC included) and the wall-clock events/s of the timed part, as the bench
 * counts it. Each variant runs the bench's scenario 2 shape: a fresh store per round, BATCHES/10 batches of
 * warm-up, then BATCHES batches of 100 events to new streams (330,000 events kept, as `-b memory` does),
 * the specs and stream id made outside the timed part (as `scenarios/batch.ts` does). The variants
 * alternate within each round, the order rotated round by round; medians and minima at the end.
 *
 *     cd tools/bench && npx tsx probes/memory-floor.ts [ROUNDS=5 BATCHES=3000 ONLY=build,strings,...]
 *
 * build:   the events built exactly as the library adapter builds them, dropped (nothing kept).
 * json:    build, then `JSON.stringify` of each event's payload, the text dropped (nothing kept).
 * strings: build, then `JSON.stringify` of each event's payload (its fields but id and version, in
 *          one literal) pushed to one array kept for the round.
 * records: build, then one `{ id, position, topic, state }` object per event (state the JSON text)
 *          pushed to one array kept for the round.
 * events:  build, the events themselves kept in one array (no copy, no text: the least any store keeps).
 * payloads: build, then one `{ id, position, topic, payload }` per event, the payload a frozen copy of
 *          its fields (what a store that defers the JSON keeps), pushed to one array kept for the round.
 * library: `EventStore.append` over `InMemoryActiveRecordStrategy` (the bench's library adapter).
 */
import { randomUUID } from 'node:crypto';
import type { VersionedEntityEvent } from '@es/core';
import type { EventSpec } from '../src/adapter.js';
import { libraryInMemory } from '../src/adapters/library-in-memory.js';
import { benchEvents } from '../src/adapters/library.js';
import { CHANGED_TOPIC, CREATED_TOPIC } from '../src/domain.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BATCHES = Number(process.env.BATCHES ?? 3000);
const WARMUP = Math.max(1, Math.round(BATCHES / 10));
const SIZE = 100;
let counter = 0;
/** The runner's `streamSpecs`: the first event creates, every value a 64-character padded string. */
const specs = (): EventSpec[] =>
  Array.from({ length: SIZE }, (_, i) => ({
    created: i === 0,
    value: `batch:${++counter}:`.padEnd(64, '.'),
  }));

const cpu = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

/** The library adapter's events (src/adapters/library.ts). */
const build = benchEvents;

/** What the variants that keep nothing compute, printed at the end (so that no work is left out). */
let sink = 0;

type Fields = { value: string; timestamp: number; name?: string };
/** The payload, in one literal (what a store that knows its events' fields would serialise). */
const payloadOf = (event: VersionedEntityEvent, created: boolean): string => {
  const e = event as unknown as Fields;
  return created
    ? JSON.stringify({ value: e.value, timestamp: e.timestamp })
    : JSON.stringify({ name: e.name, value: e.value, timestamp: e.timestamp });
};

interface Row {
  id: string;
  position: number;
  topic: string;
  state: string;
}

interface Deferred {
  id: string;
  position: number;
  topic: string;
  payload: Readonly<Fields>;
}

type Store = {
  append(stream: string, list: readonly EventSpec[]): Promise<void> | void;
  close?(): Promise<void>;
};

const variants: Record<string, () => Promise<Store>> = {
  async build() {
    return {
      append(stream, list) {
        sink += build(stream, 0, list).length;
      },
    };
  },
  async json() {
    return {
      append(stream, list) {
        const events = build(stream, 0, list);
        for (let i = 0; i < events.length; i++) sink += payloadOf(events[i]!, list[i]!.created).length;
      },
    };
  },
  async strings() {
    const kept: string[] = [];
    return {
      append(stream, list) {
        const events = build(stream, 0, list);
        for (let i = 0; i < events.length; i++) kept.push(payloadOf(events[i]!, list[i]!.created));
      },
    };
  },
  async records() {
    const kept: Row[] = [];
    return {
      append(stream, list) {
        const events = build(stream, 0, list);
        for (let i = 0; i < events.length; i++) {
          const created = list[i]!.created;
          kept.push({
            id: stream,
            position: i,
            topic: created ? CREATED_TOPIC : CHANGED_TOPIC,
            state: payloadOf(events[i]!, created),
          });
        }
      },
    };
  },
  async events() {
    const kept: VersionedEntityEvent[] = [];
    return {
      append(stream, list) {
        for (const event of build(stream, 0, list)) kept.push(event);
      },
    };
  },
  async payloads() {
    const kept: Deferred[] = [];
    return {
      append(stream, list) {
        const events = build(stream, 0, list);
        for (let i = 0; i < events.length; i++) {
          const created = list[i]!.created;
          const e = events[i] as unknown as Fields;
          kept.push({
            id: stream,
            position: i,
            topic: created ? CREATED_TOPIC : CHANGED_TOPIC,
            payload: Object.freeze(
              created
                ? { value: e.value, timestamp: e.timestamp }
                : { name: e.name, value: e.value, timestamp: e.timestamp },
            ),
          });
        }
      },
    };
  },
  async library() {
    const adapter = libraryInMemory();
    await adapter.open();
    return {
      async append(stream, list) {
        await adapter.append(stream, 0, list);
      },
      close: () => adapter.close(),
    };
  },
};

async function round(name: string): Promise<{ cpu: number; rate: number }> {
  const store = await variants[name]!();
  for (let i = 0; i < WARMUP; i++) await store.append(randomUUID(), specs());
  let used = 0;
  let wall = 0;
  for (let i = 0; i < BATCHES; i++) {
    const list = specs();
    const stream = randomUUID();
    const c0 = cpu();
    const t0 = performance.now();
    await store.append(stream, list);
    wall += performance.now() - t0;
    used += cpu() - c0;
  }
  await store.close?.();
  const n = BATCHES * SIZE;
  return { cpu: used / n, rate: n / (wall / 1000) };
}

const names = process.env.ONLY?.split(',') ?? Object.keys(variants);
const results = new Map<string, { cpu: number[]; rate: number[] }>(
  names.map((name) => [name, { cpu: [], rate: [] }]),
);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + r) % names.length]!;
    (globalThis as { gc?: () => void }).gc?.();
    const { cpu: c, rate } = await round(name);
    results.get(name)!.cpu.push(c);
    results.get(name)!.rate.push(rate);
    console.log(
      `round ${r} ${name}: ${c.toFixed(3)} cpu µs/event, ${Math.round(rate).toLocaleString('en')} events/s`,
    );
  }
}
for (const [name, { cpu: c, rate }] of results)
  console.log(
    `${name.padEnd(8)} cpu µs/event median ${median(c).toFixed(3)} min ${Math.min(...c).toFixed(3)}; events/s median ${Math.round(median(rate)).toLocaleString('en')} max ${Math.round(Math.max(...rate)).toLocaleString('en')}`,
  );
console.log(`(sink ${sink})`);
