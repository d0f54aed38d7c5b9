/**
 * CPU time and statements per operation of @es/cassandra against cassandra-driver alone, through the
 * bench's own adapters (see probes/memory.ts for why CPU time: it counts this process only, so the
 * server's share of the 2 cores does not blur it). Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && npx tsx probes/cassandra.ts snap|cold|load|batch|append|conflict|writers [library,raw] [n]   (ROUNDS=5)
 *
 * snap: per load from a snapshot (a 10,000-event stream, snapshot at its end, as the bench's load);
 * cold: the same load by strategies made for it (library only: a fresh process's load);
 * load: per load of that stream without the snapshot (all 10,000 events); batch: per append of 100 events
 * at the expected version (one writer, its own stream, as the bench's batches);
 * append: per single-event append at the expected version (one writer, its own stream, as each of the
 * bench's 8 writers); conflict: per losing append and the version re-read after it (the contention
 * scenario's losing path); writers: per append of 8 writers at once, each on its own stream. Statements are counted on the driver's Client (execute and batch).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'cassandra-driver';
import { serverUrl } from '@es/servers';
import type { BenchAdapter, EventSpec } from '../src/adapter.js';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
  CqlSnapshot,
} from '@es/cassandra';
import { LibraryAdapter } from '../src/adapters/library.js';
import { libraryCassandra } from '../src/adapters/library-cassandra.js';
import { rawCassandra } from '../src/adapters/raw-cassandra.js';

const what = process.argv[2] ?? 'snap';
const impls = (process.argv[3] ?? 'library,raw').split(',');
const n = Number(process.argv[4] ?? 500);
const url = serverUrl('cassandra');

const counts = { execute: 0, batch: 0, replayed: 0 };
/**
 * REPLAY=1 (snap, load, batch, append): the warm-up's answers are recorded per statement and parameters
 * (one answer for every batch: the appends are applied), and the measured rounds get them back at once,
 * without the server or the driver's network and parsing: what is left is each implementation's own
 * JavaScript (encoding, decoding and building the statements included).
 */
const replay = process.env.REPLAY === '1';
/**
 * LATENCY_MS=n (with REPLAY=1): each replayed answer comes n ms later, a network round trip that does
 * not depend on the server's load: wall time per operation then counts the waits one after the other.
 */
const latency = Number(process.env.LATENCY_MS ?? 0);
const answers = new Map<string, unknown>();
let recording = true;
type Method = (this: Client, ...args: unknown[]) => unknown;
for (const name of ['execute', 'batch'] as const) {
  const proto = Client.prototype as unknown as Record<string, Method>;
  const original = proto[name]!;
  proto[name] = function (this: Client, ...args: unknown[]) {
    counts[name] += 1;
    if (!replay) return original.apply(this, args);
    // Batches (appends at the expected version): any applied answer will do for the next one.
    const key =
      name === 'batch'
        ? 'batch'
        : JSON.stringify([args[0], args[1], (args[2] as { pageState?: string } | undefined)?.pageState]);
    if (!recording && answers.has(key)) {
      counts.replayed += 1;
      if (latency > 0) return new Promise((resolve) => setTimeout(() => resolve(answers.get(key)), latency));
      return Promise.resolve(answers.get(key));
    }
    const result = original.apply(this, args) as Promise<unknown>;
    return recording ? result.then((answer) => (answers.set(key, answer), answer)) : result;
  };
}

const specs = (count: number, from: number): EventSpec[] =>
  Array.from({ length: count }, (_, i) => ({
    created: from + i === 0,
    value: `v${from + i}:${randomUUID()}`,
  }));

const rounds = Number(process.env.ROUNDS ?? 5);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** `rounds` rounds of n operations after a warm-up: the median CPU and wall time per operation. */
async function measure(a: BenchAdapter<unknown>, op: (i: number) => Promise<void>): Promise<string> {
  for (let i = 0; i < Math.min(50, n); i++) await op(-1 - i);
  recording = false;
  counts.execute = 0;
  counts.batch = 0;
  counts.replayed = 0;
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await op(i);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / n);
    wall.push(((performance.now() - t0) * 1000) / n);
  }
  const ops = n * rounds;
  return `${median(cpu).toFixed(0)} CPU µs/op (rounds ${cpu.map((x) => x.toFixed(0)).join(' ')}), ${median(wall).toFixed(0)} wall µs/op, statements/op: ${(counts.execute / ops).toFixed(2)} execute + ${(counts.batch / ops).toFixed(2)} batch${replay ? ` (${(counts.replayed / ops).toFixed(2)} replayed)` : ''}`;
}

for (const impl of impls) {
  const a = (impl === 'raw' ? rawCassandra(url) : libraryCassandra(url)) as BenchAdapter<unknown>;
  await a.open();
  recording = true;
  answers.clear();
  let line = '';
  if (what === 'snap') {
    const s = randomUUID();
    for (let v = 0; v < 10_000; v += 100) await a.append(s, v, a.prepare(specs(100, v)));
    await a.takeSnapshot(s);
    line = await measure(a, async () => {
      if ((await a.load(s, true)) !== 10_000) throw new Error('bad load');
    });
  } else if (what === 'cold') {
    // As `snap`, each load by strategies made for it (library only): what a fresh process pays, its
    // layout checks included; nothing is remembered about the sequence's buckets.
    const s = randomUUID();
    for (let v = 0; v < 10_000; v += 100) await a.append(s, v, a.prepare(specs(100, v)));
    await a.takeSnapshot(s);
    const datastore = new CassandraDatastore({
      settings: new CassandraSettings({ url, keyspace: 'es_bench' }),
    });
    await datastore.setupConnection();
    const strategy = (activeRecordClass: typeof CqlSnapshot | typeof CqlIntegerSequencedItem) =>
      new CassandraActiveRecordStrategy({ activeRecordClass, datastore });
    line = await measure(a, async () => {
      const fresh = new LibraryAdapter({
        strategyDescription: 'fresh',
        open: () =>
          Promise.resolve({ events: strategy(CqlIntegerSequencedItem), snapshots: strategy(CqlSnapshot) }),
        close: () => Promise.resolve(),
        serverVersion: () => Promise.resolve(undefined),
      });
      await fresh.open();
      if ((await fresh.load(s, true)) !== 10_000) throw new Error('bad load');
    });
    await datastore.close();
  } else if (what === 'load') {
    const s = randomUUID();
    for (let v = 0; v < 10_000; v += 100) await a.append(s, v, a.prepare(specs(100, v)));
    line = await measure(a, async () => {
      if ((await a.load(s, false)) !== 10_000) throw new Error('bad load');
    });
  } else if (what === 'batch') {
    // A new stream every 90 appends, so that a stream stays in its first bucket of 10,000.
    let s = randomUUID();
    let v = 0;
    line = await measure(a, async () => {
      if (v >= 9_000) [s, v] = [randomUUID(), 0];
      if (!(await a.append(s, v, a.prepare(specs(100, v))))) throw new Error('conflict');
      v += 100;
    });
  } else if (what === 'append') {
    const s = randomUUID();
    await a.append(s, 0, a.prepare(specs(1, 0)));
    let v = 1;
    line = await measure(a, async () => {
      if (!(await a.append(s, v, a.prepare(specs(1, v))))) throw new Error('conflict');
      v += 1;
    });
  } else if (what === 'writers') {
    // 8 writers at once, each on its own stream (the bench's writers scenario); per op = per append.
    const streams = Array.from({ length: 8 }, () => randomUUID());
    for (const s of streams) await a.append(s, 0, a.prepare(specs(1, 0)));
    const next = new Map(streams.map((s) => [s, 1]));
    line = await measure(a, async (i) => {
      if (i % 8 !== 0 && i > 0) return;
      await Promise.all(
        streams.map(async (s) => {
          const v = next.get(s)!;
          if (!(await a.append(s, v, a.prepare(specs(1, v))))) throw new Error('conflict');
          next.set(s, v + 1);
        }),
      );
    });
  } else {
    const s = randomUUID();
    await a.append(s, 0, a.prepare(specs(2, 0)));
    line = await measure(a, async () => {
      if (await a.append(s, 1, a.prepare(specs(1, 1)))) throw new Error('no conflict');
      if ((await a.streamVersion(s, 1)) !== 2) throw new Error('bad version');
    });
  }
  console.log(`${what} ${impl}: ${line}`);
  await a.close();
}
