/**
 * Two builds of @es/core + @es/sql in ONE process (see make-variant.sh), with the raw driver beside them,
 * their rounds interleaved (the order turns each round), so that a busy machine weighs on all alike: CPU
 * µs (process.cpuUsage) per load of a 10,000-event stream (`EventSourcedRepository.get`) and per read of
 * the log from the start (10,000 notifications in pages of 1,000, `NotificationLogReader.readEventPages`),
 * minimum and median of the rounds. Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && npx tsx --single-threaded-gc probes/ab-loads.ts sqlite|postgres|mysql before after [load,log] [n per round] [rounds]
 *
 * Each variant has its own tables (ab_loads_<variant>); the raw column is the bench's raw adapter
 * (src/adapters/raw-*.ts). ES_POSTGRES_URL / ES_MYSQL_URL name the servers (a database of your own keeps
 * other runs' table drops away).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { serverUrl } from '@es/servers';
import type { BenchAdapter, EventSpec } from '../src/adapter.js';
import { freshCassandraEvents, variantEntity } from './variant-parts.js';

const backend = process.argv[2] ?? 'sqlite';
const names = [process.argv[3] ?? 'before', process.argv[4] ?? 'after'];
const what = (process.argv[5] ?? 'load,log').split(',');
const n = Number(process.argv[6] ?? 5);
const rounds = Number(process.argv[7] ?? 15);
const pg = serverUrl('postgres');
const my = serverUrl('mysql');
const cassandra = serverUrl('cassandra');
const dir = mkdtempSync(join(tmpdir(), 'ab-loads-'));
const length = 10_000;
const pageSize = 1000;

type Tests = Map<string, () => Promise<unknown>>;

async function variant(name: string): Promise<{ tests: Tests; close: () => Promise<void> }> {
  const root = new URL(`./variants/${name}/node_modules/@es/`, import.meta.url).pathname;
  // `any`: a variant is a build imported by path at run time, not the workspace's typed sources.
  const core: any = await import(`${root}core/dist/index.js`);
  const sqlp: any = await import(`${root}sql/dist/index.js`);
  const { EventStore, EventSourcedRepository, SequencedItemMapper } = core;
  const E = variantEntity(core, `ab.${name}`);
  const { events, close } = await strategy(name, core, sqlp);
  const mapper = new SequencedItemMapper();
  const eventStore = new EventStore({ activeRecordStrategy: events, sequencedItemMapper: mapper });
  const repo = new EventSourcedRepository({ eventStore, entity: E });
  const stream = randomUUID();
  for (let v = 0; v < length; v += 100)
    await eventStore.append(
      Array.from({ length: 100 }, (_, i) =>
        v + i === 0
          ? new E.Created({ originatorId: stream, originatorVersion: 0, value: `v0:${randomUUID()}` })
          : new E.AttributeChanged({
              originatorId: stream,
              originatorVersion: v + i,
              name: 'value',
              value: `v${v + i}:${randomUUID()}`,
            }),
      ),
    );
  // Cassandra's store has no log.
  const reader = backend === 'cassandra' ? undefined : new core.NotificationLogReader(events, mapper);
  const paged = (size: number) => {
    const r = new EventSourcedRepository({ eventStore, entity: E, pageSize: size });
    return async () => {
      if ((await r.get(stream)).version !== length) throw new Error('bad load');
    };
  };
  const tests: Tests = new Map([
    [
      'load',
      async () => {
        if ((await repo.get(stream)).version !== length) throw new Error('bad load');
      },
    ],
    // The same load in pages of other sizes (the repository's pageSize; 1,000 by default).
    ['load2500', paged(2500)],
    ['load5000', paged(5000)],
    ['load10001', paged(10_001)],
    [
      'log',
      async () => {
        let read = 0;
        for await (const page of reader!.readEventPages({ pageSize })) read += page.length;
        if (read !== length) throw new Error('short log');
      },
    ],
  ]);
  return { tests, close };
}

/** The variant's events strategy on the backend; Cassandra's is the workspace's (not part of a variant). */
async function strategy(
  name: string,
  core: any,
  sqlp: any,
): Promise<{ events: any; close: () => Promise<void> }> {
  if (backend === 'memory') return { events: new core.InMemoryActiveRecordStrategy(), close: async () => {} };
  if (backend === 'cassandra') {
    return freshCassandraEvents(await import('@es/cassandra'), cassandra, `ab_loads_${name}`);
  }
  const EVENTS = sqlp.SqlIntegerSequencedItem.withTableName(`ab_loads_${name}`);
  const url =
    backend === 'sqlite'
      ? `sqlite:${join(mkdtempSync(join(dir, `${name}-`)), 'l.sqlite')}`
      : backend === 'postgres'
        ? pg
        : my;
  const datastore = new sqlp.SqlDatastore({ settings: new sqlp.SqlSettings({ url }), tables: [EVENTS] });
  await datastore.setupConnection();
  await datastore.dropTables();
  await datastore.setupTables();
  return {
    events: new sqlp.SqlActiveRecordStrategy({ datastore, table: EVENTS }),
    close: () => datastore.close(),
  };
}

async function raw(): Promise<{ tests: Tests; close: () => Promise<void> }> {
  const a: BenchAdapter<unknown> =
    backend === 'memory'
      ? (await import('../src/adapters/emmett-in-memory.js')).emmettInMemory()
      : backend === 'cassandra'
        ? (await import('../src/adapters/raw-cassandra.js')).rawCassandra(cassandra)
        : backend === 'sqlite'
          ? (await import('../src/adapters/raw-sqlite.js')).rawSqlite(dir)
          : backend === 'postgres'
            ? (await import('../src/adapters/raw-postgres.js')).rawPostgres(pg)
            : (await import('../src/adapters/raw-mysql.js')).rawMysql(my);
  await a.open();
  const stream = randomUUID();
  const specs = (count: number, from: number): EventSpec[] =>
    Array.from({ length: count }, (_, i) => ({
      created: from + i === 0,
      value: `v${from + i}:${randomUUID()}`,
    }));
  for (let v = 0; v < length; v += 100) await a.append(stream, v, a.prepare(specs(100, v)));
  const load = async () => {
    if ((await a.load(stream, false)) !== length) throw new Error('bad load');
  };
  const tests: Tests = new Map([
    ['load', load],
    ['load2500', load],
    ['load5000', load],
    ['load10001', load],
    [
      'log',
      async () => {
        if ((await a.readLog(length, pageSize)) !== length) throw new Error('short log');
      },
    ],
  ]);
  return { tests, close: () => a.close() };
}

const columns = [...names, 'raw'];
const runs = [];
for (const name of names) runs.push(await variant(name));
runs.push(await raw());
const results = columns.map(() => new Map<string, number[]>());
for (let r = 0; r < rounds; r++) {
  const order = [...runs.keys()];
  for (let k = 0; k < r % order.length; k++) order.push(order.shift()!);
  for (const v of order) {
    for (const test of what) {
      const f = runs[v]!.tests.get(test)!;
      await f();
      const c0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await f();
      const c = process.cpuUsage(c0);
      const m = results[v]!;
      (m.get(test) ?? m.set(test, []).get(test)!).push((c.user + c.system) / n);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const min = (xs: number[]) => Math.min(...xs);
console.log(
  `${backend}: cpu µs per ${length} events, ${rounds} interleaved rounds of ${n}`.padEnd(50) +
    columns.map((x) => ` ${x} min`.padStart(14) + ` ${x} med`.padStart(14)).join(''),
);
for (const test of what) {
  console.log(
    test.padEnd(50) +
      results
        .map((m) => min(m.get(test)!).toFixed(0).padStart(14) + median(m.get(test)!).toFixed(0).padStart(14))
        .join(''),
  );
  const raws = results[columns.length - 1]!.get(test)!;
  console.log(
    `${test}: raw/variant (min, med)`.padEnd(50) +
      names
        .map((_, v) => {
          const xs = results[v]!.get(test)!;
          return (
            (min(raws) / min(xs)).toFixed(2).padStart(14) +
            (median(raws) / median(xs)).toFixed(2).padStart(14)
          );
        })
        .join(''),
  );
}
for (const run of runs) await run.close();
