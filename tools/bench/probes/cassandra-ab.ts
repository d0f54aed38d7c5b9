/**
 * Builds of @es/core + @es/cassandra (probes/make-variant.sh, which keeps the built cassandra package
 * too) and the raw driver in ONE process, their rounds interleaved (the order turns each round), so that
 * a busy machine weighs on all alike: CPU µs (process.cpuUsage) and wall µs per operation, minimum and
 * median of the rounds, and statements per operation (counted on the driver's Client). Not a test, not
 * part of `pnpm bench`.
 *
 *     cd tools/bench && npx tsx probes/cassandra-ab.ts before,after load,items,writers [n per round] [rounds]
 *
 * load: `EventSourcedRepository.get` of a 10,000-event stream (raw: the bench adapter's load);
 * items: the same stream's items through the strategy alone (`iteratePages`, no decoding; raw: the
 * driver's pages of `position, topic, data` and nothing else): what the Cassandra package adds per row;
 * writers: 8 appends at once, each on its own stream at its expected version (the bench's writers), per
 * append. A variant named `src` is the workspace's sources (no build needed).
 */
import { randomUUID } from 'node:crypto';
import { cassandraContact, serverUrl } from '@es/servers';
import { Client } from 'cassandra-driver';
import type { BenchAdapter, EventSpec } from '../src/adapter.js';
import { rawCassandra } from '../src/adapters/raw-cassandra.js';
import { freshCassandraEvents, variantEntity } from './variant-parts.js';

const names = (process.argv[2] ?? 'src').split(',');
const what = (process.argv[3] ?? 'load,items,writers').split(',');
const n = Number(process.argv[4] ?? 5);
const rounds = Number(process.argv[5] ?? 9);
const url = serverUrl('cassandra');
const length = 10_000;
const WRITERS = 8;

const statements = { count: 0 };
type Method = (this: Client, ...args: unknown[]) => unknown;
for (const name of ['execute', 'batch'] as const) {
  const proto = Client.prototype as unknown as Record<string, Method>;
  const original = proto[name]!;
  proto[name] = function (this: Client, ...args: unknown[]) {
    statements.count += 1;
    return original.apply(this, args);
  };
}

/** Per test: one operation, and how many units (appends, loads) it is. */
type Tests = Map<string, { run: () => Promise<void>; units: number }>;

/** 8 appends at once, each to its own stream at its expected version: one writer's next event each. */
function writersTest(append: (stream: string, version: number) => Promise<void>) {
  const writers = Array.from({ length: WRITERS }, () => ({ stream: randomUUID(), next: 0 }));
  return {
    units: WRITERS,
    run: async () => {
      await Promise.all(
        writers.map(async (w) => {
          await append(w.stream, w.next);
          w.next += 1;
        }),
      );
    },
  };
}

async function variant(name: string): Promise<{ tests: Tests; close: () => Promise<void> }> {
  const root = new URL(`./variants/${name}/node_modules/@es/`, import.meta.url).pathname;
  // `any`: a variant is a build imported by path at run time, not the workspace's typed sources.
  const core: any = name === 'src' ? await import('@es/core') : await import(`${root}core/dist/index.js`);
  const cass: any =
    name === 'src' ? await import('@es/cassandra') : await import(`${root}cassandra/dist/index.js`);
  const { EventStore, EventSourcedRepository, SequencedItemMapper } = core;
  const E = variantEntity(core, `cab.${name}`);
  const { events, close } = await freshCassandraEvents(cass, url, `cab_${name}`);
  const eventStore = new EventStore({
    activeRecordStrategy: events,
    sequencedItemMapper: new SequencedItemMapper(),
  });
  const repo = new EventSourcedRepository({ eventStore, entity: E });
  const event = (stream: string, v: number) =>
    v === 0
      ? new E.Created({ originatorId: stream, originatorVersion: 0, value: `v0:${randomUUID()}` })
      : new E.AttributeChanged({
          originatorId: stream,
          originatorVersion: v,
          name: 'value',
          value: `v${v}:${randomUUID()}`,
        });
  const stream = randomUUID();
  for (let v = 0; v < length; v += 100)
    await eventStore.append(Array.from({ length: 100 }, (_, i) => event(stream, v + i)));
  const tests: Tests = new Map([
    [
      'load',
      {
        units: 1,
        run: async () => {
          if ((await repo.get(stream)).version !== length) throw new Error('bad load');
        },
      },
    ],
    [
      'items',
      {
        units: 1,
        run: async () => {
          let read = 0;
          for await (const page of events.iteratePages(stream)) read += page.length;
          if (read !== length) throw new Error('short read');
        },
      },
    ],
    ['writers', writersTest((stream, v) => eventStore.append(event(stream, v)))],
  ]);
  return { tests, close };
}

async function raw(): Promise<{ tests: Tests; close: () => Promise<void> }> {
  const a: BenchAdapter<unknown> = rawCassandra(url);
  await a.open();
  const client = new Client(cassandraContact(url));
  await client.connect();
  const specs = (count: number, from: number): EventSpec[] =>
    Array.from({ length: count }, (_, i) => ({
      created: from + i === 0,
      value: `v${from + i}:${randomUUID()}`,
    }));
  const stream = randomUUID();
  for (let v = 0; v < length; v += 100) await a.append(stream, v, a.prepare(specs(100, v)));
  const tests: Tests = new Map([
    [
      'load',
      {
        units: 1,
        run: async () => {
          if ((await a.load(stream, false)) !== length) throw new Error('bad load');
        },
      },
    ],
    [
      'items',
      {
        units: 1,
        run: async () => {
          let read = 0;
          let pageState: string | undefined;
          do {
            const result = await client.execute(
              'SELECT position, topic, data FROM es_bench_raw.integer_sequenced_items WHERE sequence_id = ? AND bucket = 0',
              [stream],
              { prepare: true, fetchSize: 1000, ...(pageState ? { pageState } : {}) },
            );
            read += result.rows.length;
            pageState = result.pageState ?? undefined;
          } while (pageState !== undefined);
          if (read !== length) throw new Error('short read');
        },
      },
    ],
    [
      'writers',
      // Serialised in the timed section, as the library's append serialises its events.
      writersTest(async (stream, v) => {
        if (!(await a.append(stream, v, a.prepare(specs(1, v))))) throw new Error('conflict');
      }),
    ],
  ]);
  return {
    tests,
    close: async () => {
      await client.shutdown();
      await a.close();
    },
  };
}

const columns = [...names, 'raw'];
const runs = [];
for (const name of names) runs.push(await variant(name));
runs.push(await raw());
const cpu = columns.map(() => new Map<string, number[]>());
const wall = columns.map(() => new Map<string, number[]>());
const counted = columns.map(() => new Map<string, number>());
const push = (m: Map<string, number[]>, k: string, x: number) => (m.get(k) ?? m.set(k, []).get(k)!).push(x);
for (let r = 0; r < rounds; r++) {
  const order = [...runs.keys()];
  for (let k = 0; k < r % order.length; k++) order.push(order.shift()!);
  for (const v of order) {
    for (const test of what) {
      const { run, units } = runs[v]!.tests.get(test)!;
      await run();
      const s0 = statements.count;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await run();
      const c = process.cpuUsage(c0);
      push(wall[v]!, test, ((performance.now() - t0) * 1000) / (n * units));
      push(cpu[v]!, test, (c.user + c.system) / (n * units));
      counted[v]!.set(test, (counted[v]!.get(test) ?? 0) + statements.count - s0);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const min = (xs: number[]) => Math.min(...xs);
console.log(
  `${rounds} interleaved rounds of ${n}; per load, or per append (writers); CPU µs min/med, wall µs med, statements`,
);
for (const test of what)
  for (const [v, column] of columns.entries()) {
    const c = cpu[v]!.get(test)!;
    const w = wall[v]!.get(test)!;
    const units = runs[v]!.tests.get(test)!.units;
    console.log(
      `${test.padEnd(8)} ${column.padEnd(10)} cpu ${min(c).toFixed(0).padStart(7)} / ${median(c).toFixed(0).padStart(7)}   wall ${median(w).toFixed(0).padStart(7)}   statements ${(counted[v]!.get(test)! / (rounds * n * units)).toFixed(2)}`,
    );
  }
for (const r of runs) await r.close();
