/**
 * `pnpm --filter @es/bench bench:feed [--quick]`: what the Cassandra feed costs and how fast it is, on the
 * node at ES_CASSANDRA_URL (default 127.0.0.1:9042), in a keyspace of its own (dropped after).
 * - write cost: single-event appends and 100-event batches to a table with the feed and to one without,
 *   in alternating rounds (the same process, connection and settings), events/s and append p50/p99;
 * - feed throughput: a backlog appended with no sequencer running, then copied by one sequencer pass
 *   after another, events/s;
 * - append-to-feed latency with the default settings: a sequencer running in this process (start(),
 *   100 ms polls, woken by this process's appends), from an append's start until its item is in the log
 *   (seen through the log's append signal), p50/p99.
 * Prints a Markdown table and the load average; docs/cassandra.md records the figures.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { SequencedItem } from '@es/core';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
  FeedSequencer,
} from '@es/cassandra';
import { serverUrl } from '@es/servers';
import { percentile } from './scenarios/single.js';

const quick = process.argv.includes('--quick');
const sizes = quick
  ? { rounds: 2, single: 100, batches: 10, backlog: 2_000, latency: 100 }
  : { rounds: 3, single: 500, batches: 40, backlog: 20_000, latency: 500 };

const plain = CqlIntegerSequencedItem.withTableName('plain');
const withFeed = CqlIntegerSequencedItem.withTableName('fed').withFeed();
const item = (id: string, position: number) =>
  new SequencedItem(
    id,
    position,
    'bench.Event',
    JSON.stringify({ value: `${id}:${position}`, at: Date.now() }),
  );

type Timing = { eventsPerSecond: number; p50: number; p99: number };

async function appends(
  store: CassandraActiveRecordStrategy<SequencedItem, 'integer'>,
  count: number,
  batch: number,
): Promise<{ eventsPerSecond: number; p50: number; p99: number }> {
  const latencies = new Float64Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const items = Array.from({ length: batch }, (_, p) => item(id, p));
    const t0 = performance.now();
    await store.append(items);
    latencies[i] = performance.now() - t0;
    total += latencies[i]!;
  }
  latencies.sort();
  return {
    eventsPerSecond: (count * batch) / (total / 1000),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const settings = new CassandraSettings({
    url: serverUrl('cassandra'),
    keyspace: `es_bench_feed_${process.pid}`,
  });
  const datastore = new CassandraDatastore({ settings, tables: [plain, withFeed] });
  await datastore.setupConnection();
  await datastore.setupTables();
  const loadBefore = loadavg();
  try {
    const stores = {
      plain: new CassandraActiveRecordStrategy({ table: plain, datastore }),
      feed: new CassandraActiveRecordStrategy({ table: withFeed, datastore }),
    };
    // The hints written here are copied (and retired) by the throughput pass below.
    const rows: string[] = [];
    for (const [label, batch, count] of [
      ['single-event appends', 1, sizes.single],
      ['100-event batches', 100, sizes.batches],
    ] as const) {
      const results: Record<'plain' | 'feed', Timing[]> = { plain: [], feed: [] };
      for (let round = 0; round < sizes.rounds; round++)
        for (const kind of ['plain', 'feed'] as const)
          results[kind].push(await appends(stores[kind], count, batch));
      const m = (kind: 'plain' | 'feed', key: 'eventsPerSecond' | 'p50' | 'p99') =>
        median(results[kind].map((r) => r[key]));
      rows.push(
        `| ${label}, events/s | ${fmt(m('plain', 'eventsPerSecond'))} | ${fmt(m('feed', 'eventsPerSecond'))} | ${fmt(m('feed', 'eventsPerSecond') / m('plain', 'eventsPerSecond'), 2)}x |`,
        `| ${label}, append p50 / p99 ms | ${fmt(m('plain', 'p50'), 1)} / ${fmt(m('plain', 'p99'), 1)} | ${fmt(m('feed', 'p50'), 1)} / ${fmt(m('feed', 'p99'), 1)} | |`,
      );
    }

    // Throughput: a backlog of 100-event batches, then passes of one sequencer until it is copied.
    for (let written = 0; written < sizes.backlog; written += 100) {
      const id = randomUUID();
      await stores.feed.append(Array.from({ length: 100 }, (_, p) => item(id, p)));
    }
    const sequencer = new FeedSequencer({ table: withFeed, datastore });
    let copied = 0;
    const t0 = performance.now();
    for (;;) {
      const pass = await sequencer.runOnce();
      copied += pass.copied;
      if (pass.copied === 0) break;
    }
    const copySeconds = (performance.now() - t0) / 1000;

    // Latency: the sequencer running as an application runs it; items stamped when they reach the log.
    const live = new FeedSequencer({ table: withFeed, datastore });
    live.start();
    const started = new Map<string, number>();
    const landed = new Map<string, number>();
    let next = (await stores.feed.maxNotificationId()) + 1;
    let reading = Promise.resolve();
    const stop = live.appended.listen(() => {
      reading = reading.then(async () => {
        for (;;) {
          const page = await stores.feed.selectNotifications(next, 1000);
          const now = performance.now();
          for (const n of page) if (!landed.has(n.sequenceId)) landed.set(n.sequenceId, now);
          if (page.length === 0) return;
          next = page[page.length - 1]!.id + 1;
        }
      });
    });
    for (let i = 0; i < sizes.latency; i++) {
      const id = randomUUID();
      started.set(id, performance.now());
      await stores.feed.append(item(id, 0));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const deadline = Date.now() + 30_000;
    while (landed.size < sizes.latency && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    stop();
    await reading;
    await live.stop();
    const latencies = Float64Array.from(
      [...started].filter(([id]) => landed.has(id)).map(([id, t]) => landed.get(id)! - t),
    ).sort();

    const loadAfter = loadavg();
    process.stdout.write(
      [
        `Cassandra feed (${quick ? 'QUICK' : 'full'} run; ${settings.address}; medians of ${sizes.rounds} alternating rounds)`,
        '',
        '| | without the feed | with the feed | ratio |',
        '|---|---|---|---|',
        ...rows,
        `| feed throughput (one sequencer copying a backlog of ${fmt(copied)} events in batches of 100), events/s | | ${fmt(copied / copySeconds)} | |`,
        `| append-to-feed latency, default settings (${latencies.length} of ${sizes.latency} single-event appends), p50 / p99 ms | | ${fmt(percentile(latencies, 0.5), 1)} / ${fmt(percentile(latencies, 0.99), 1)} | |`,
        '',
        `load average (1, 5, 15 min): before ${loadBefore.map((l) => l.toFixed(1)).join(', ')}; after ${loadAfter.map((l) => l.toFixed(1)).join(', ')}`,
        '',
      ].join('\n'),
    );
  } finally {
    await datastore.client.execute(`DROP KEYSPACE IF EXISTS ${settings.keyspace}`).catch(() => undefined);
    await datastore.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:feed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
