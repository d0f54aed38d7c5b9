/**
 * `pnpm --filter @es/bench bench:following [--quick]`: following the log, on memory, SQLite (a file),
 * PostgreSQL and MariaDB (servers from @es/servers' table; one that does not answer is reported and
 * left out).
 * - feed latency, in process: a live Subscription woken by the store's append signal, from an append's
 *   start until the subscriber has the event, p50/p99;
 * - feed latency, polling: the same log read without the signal (what a subscriber in another process
 *   sees), default poll settings (100 ms, doubling to 2 s while idle), p50/p99;
 * - projection throughput: a ProjectionRunner catching up over a backlog into a read model with
 *   tracking (SQL: an upsert per event, pages of 100 per transaction; memory: a Map), events/s.
 * Emmett's side of these is not measured yet (its consumers need its own store set-up per backend).
 * Prints a Markdown table and the load average; docs/benchmarks.md records the figures.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApplicationRecorder,
  InMemoryActiveRecordStrategy,
  type ProcessRecorder,
  ProjectionRunner,
  SequencedItemMapper,
  Subscription,
  TopicRegistry,
  VersionedEntityEvent,
} from '@es/core';
import { probe, serverUrl } from '@es/servers';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlTracking,
} from '@es/sql';
import type { Transaction } from 'kysely';
import { percentile } from './scenarios/single.js';

const quick = process.argv.includes('--quick');
const sizes = quick ? { live: 100, polled: 10, backlog: 2_000 } : { live: 500, polled: 40, backlog: 20_000 };

class Scored extends VersionedEntityEvent.withPayload<{ points: number }, typeof VersionedEntityEvent>() {}
const mapper = new SequencedItemMapper({ topics: new TopicRegistry().register('bench.Scored', Scored) });
const event = (stream: string, version: number) =>
  mapper.toSequencedItem(new Scored({ originatorId: stream, originatorVersion: version, points: 1 }));

/** The store's log without its signal: a follower in another process only polls. */
function polled(store: ApplicationRecorder): ApplicationRecorder {
  return new Proxy(store, {
    get: (target, key) => (key === 'appended' ? undefined : Reflect.get(target, key)),
  });
}

/** Append-to-visible latencies: each append waits until the subscriber has its event. */
async function latency(
  store: ApplicationRecorder,
  follower: ApplicationRecorder,
  n: number,
): Promise<Float64Array> {
  const subscription = new Subscription<Scored>(follower, mapper, { after: await store.maxNotificationId() });
  const iterator = subscription[Symbol.asyncIterator]();
  const stream = randomUUID();
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const seen = iterator.next();
    // The subscriber settles into its wait first (as one that caught up a while ago has).
    await new Promise((resolve) => setTimeout(resolve, 5));
    const t0 = performance.now();
    await store.append(event(stream, i));
    await seen;
    times[i] = performance.now() - t0;
  }
  await subscription[Symbol.asyncDispose]();
  return times.sort();
}

async function throughput<H>(
  store: ProcessRecorder<any, H>,
  add: (handle: H, stream: string, points: number) => Promise<void> | void,
  n: number,
): Promise<number> {
  const streams = Array.from({ length: 100 }, () => randomUUID());
  const per = Math.ceil(n / streams.length);
  for (const stream of streams) await store.append(Array.from({ length: per }, (_, v) => event(stream, v)));
  const runner = new ProjectionRunner<Scored, H>({
    projection: { name: `bench-${randomUUID()}`, process: (e, h) => add(h, e.originatorId, e.points) },
    source: store,
    mapper,
  });
  const t0 = performance.now();
  runner.start();
  await runner.whenCaughtUp();
  const seconds = (performance.now() - t0) / 1000;
  await runner.stop();
  return (await store.maxNotificationId()) / seconds;
}

interface Row {
  backend: string;
  live: Float64Array;
  polled: Float64Array;
  eventsPerSecond: number;
}

async function sqlRow(name: string, url: string): Promise<Row> {
  const events = SqlIntegerSequencedItem.withTableName(`bench_following_${randomUUID().slice(0, 8)}`);
  const tracking = SqlTracking.withTableName(`bench_tracking_${randomUUID().slice(0, 8)}`);
  const totals = `bench_totals_${randomUUID().slice(0, 8)}`;
  const settings = new SqlSettings({ url });
  const datastore = new SqlDatastore({ settings, tables: [events, tracking] });
  await datastore.setupConnection();
  await datastore.setupTables();
  try {
    await datastore.db.schema
      .createTable(totals)
      .addColumn('stream', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('total', 'bigint', (c) => c.notNull())
      .execute();
    const store = new SqlActiveRecordStrategy({
      datastore,
      table: events,
      tracking,
    }) as unknown as ProcessRecorder<any, Transaction<any>>;
    const live = await latency(store, store, sizes.live);
    const slow = await latency(store, polled(store), sizes.polled);
    const rate = await throughput(
      store,
      async (trx, stream, points) => {
        const insert = trx.insertInto(totals).values({ stream, total: points });
        const update = (eb: any) => ({ total: eb(`${totals}.total`, '+', points) });
        await (
          settings.dialect === 'mysql'
            ? insert.onDuplicateKeyUpdate(update)
            : insert.onConflict((oc) => oc.column('stream').doUpdateSet(update))
        ).execute();
      },
      sizes.backlog,
    );
    return { backend: name, live, polled: slow, eventsPerSecond: rate };
  } finally {
    await datastore.db.schema.dropTable(totals).ifExists().execute();
    await datastore.dropTables();
    await datastore.close();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const memory = new InMemoryActiveRecordStrategy();
  const totals = new Map<string, number>();
  rows.push({
    backend: 'memory',
    live: await latency(memory, memory, sizes.live),
    polled: await latency(memory, polled(memory), sizes.polled),
    eventsPerSecond: await throughput(
      memory,
      (_h, s, p) => void totals.set(s, (totals.get(s) ?? 0) + p),
      sizes.backlog,
    ),
  });
  const directory = mkdtempSync(join(tmpdir(), 'es-bench-following-'));
  try {
    rows.push(await sqlRow('sqlite', `sqlite:${join(directory, 'bench.db')}`));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  for (const backend of ['postgres', 'mysql'] as const) {
    const url = serverUrl(backend);
    const answer = await probe(backend);
    if (!answer.ok) {
      process.stdout.write(`${backend}: not answering (${answer.reason}), left out\n`);
      continue;
    }
    rows.push(await sqlRow(backend, url));
  }
  const ms = (v: number) => v.toFixed(1);
  const lines = [
    '| backend | in-process p50 / p99 (ms) | polling p50 / p99 (ms) | projection events/s |',
    '|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.backend} | ${ms(percentile(r.live, 0.5))} / ${ms(percentile(r.live, 0.99))} | ${ms(percentile(r.polled, 0.5))} / ${ms(percentile(r.polled, 0.99))} | ${Math.round(r.eventsPerSecond)} |`,
    ),
  ];
  process.stdout.write(
    `${lines.join('\n')}\n\n${quick ? 'quick' : 'full'} sizes ${JSON.stringify(sizes)}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
