/**
 * `pnpm bench:feed [--quick] [--sequencer in-process|process] [-o results.json]` (see --help): what the
 * Cassandra feed costs and how fast it is, on the node at ES_CASSANDRA_URL (default 127.0.0.1:9042), in
 * a keyspace of its own (dropped after).
 * - write cost: single-event appends and 100-event batches to a table with the feed and to one without,
 *   in alternating rounds (the same process, connection and settings), events/s and append p50/p99;
 * - feed throughput: a backlog appended with no sequencer running, then copied by one sequencer pass
 *   after another, events/s;
 * - append-to-feed latency with the default settings, from an append's start until its item is in the
 *   log, p50/p99. `--sequencer in-process`: a sequencer running in this process (start(), 100 ms polls,
 *   woken by this process's appends), items seen through the log's append signal. `--sequencer process`:
 *   the package's es-cassandra-feed-sequencer as a child process (woken by nothing of ours: it polls every
 *   100 ms), items seen by a reader in this process polling the log every 5 ms. Appends not in the log
 *   30 s after the last one are counted and left out of the percentiles.
 * Prints a Markdown table and the load average, and with -o writes every figure as JSON
 * (feed-report.ts); docs/cassandra.md, "Costs", records the figures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SequencedItem } from '@es/core';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
  FeedSequencer,
} from '@es/cassandra';
import { serverUrl } from '@es/servers';
import {
  type FeedLatency,
  type FeedOptions,
  type Timing,
  type WriteCost,
  feedLatency,
  feedTable,
  parseFeedCommandLine,
  readFeedResults,
  writeCost,
  writeFeedResults,
} from './feed-report.js';
import { latencyOf } from './following-measure.js';
import { machine, sourceState } from './results-file.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// Paths on the command line are read from where the command was typed (pnpm runs us in tools/bench).
const fromCaller = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);
/** How long after the last measured append the bench waits for the feed before counting the rest out. */
const LANDING_WAIT_MS = 30_000;
const POLL_MS = 5;

const plain = CqlIntegerSequencedItem.withTableName('plain');
const withFeed = CqlIntegerSequencedItem.withTableName('fed').withFeed();
const item = (id: string, position: number) =>
  new SequencedItem(
    id,
    position,
    'bench.Event',
    JSON.stringify({ value: `${id}:${position}`, at: Date.now() }),
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Store = CassandraActiveRecordStrategy<SequencedItem, 'integer'>;
type FeedStore = CassandraActiveRecordStrategy<SequencedItem, 'integer', true>;

async function appends(store: Store, count: number, batch: number): Promise<Timing> {
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
  return { eventsPerSecond: (count * batch) / (total / 1000), ...latencyOf(latencies.sort()) };
}

/**
 * The package's bin as a child process (tsx as a loader in the child itself, so that a signal reaches
 * the sequencer and not a wrapper), on this run's keyspace and table; resolves once it leads.
 */
async function sequencerProcess(settings: CassandraSettings): Promise<ChildProcess> {
  const url = serverUrl('cassandra').replace(
    /^(cassandra:\/\/[^/?#]+)(\/[^?#]*)?/,
    `$1/${settings.keyspace}`,
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(resolve(root, 'node_modules/tsx/dist/loader.mjs')).href,
      resolve(root, 'packages/cassandra/src/feed-sequencer-cli.ts'),
      url,
      '--table',
      withFeed.tableName,
    ],
    {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: resolve(root, 'packages/cassandra/tsconfig.json') },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((leading, failed) => {
      let out = '';
      const timer = setTimeout(
        () => failed(new Error('feed sequencer process: not leading after 60 s')),
        60_000,
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (/^feed sequencer: leading$/m.test(out)) {
          clearTimeout(timer);
          leading();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        failed(new Error(`feed sequencer process exited (${code}) before leading: ${out}`));
      });
    });
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000).then(() => child.kill('SIGKILL'))]);
}

/**
 * Single-event appends 5 ms apart, each stamped at its start, and the time each one's item is first
 * seen in the log; waits up to LANDING_WAIT_MS after the last for the rest.
 */
async function latency(
  options: FeedOptions,
  store: FeedStore,
  datastore: CassandraDatastore,
  settings: CassandraSettings,
): Promise<FeedLatency> {
  const started = new Map<string, number>();
  const landed = new Map<string, number>();
  let next = (await store.maxNotificationId()) + 1;
  const readNew = async () => {
    for (;;) {
      const page = await store.selectNotifications(next, 1000);
      const now = performance.now();
      for (const n of page) if (!landed.has(n.sequenceId)) landed.set(n.sequenceId, now);
      if (page.length === 0) return;
      next = page[page.length - 1]!.id + 1;
    }
  };
  const count = options.sizes.latency;
  const measure = async () => {
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      started.set(id, performance.now());
      await store.append(item(id, 0));
      await sleep(5);
    }
    const deadline = Date.now() + LANDING_WAIT_MS;
    while (landed.size < count && Date.now() < deadline) await sleep(50);
  };

  if (options.sequencer === 'in-process') {
    // The sequencer running as an application runs it; items stamped when they reach the log.
    const live = new FeedSequencer({ table: withFeed, datastore });
    live.start();
    let reading = Promise.resolve();
    const stop = live.appended.listen(() => {
      reading = reading.then(readNew);
    });
    try {
      await measure();
    } finally {
      stop();
      await reading;
      await live.stop();
    }
    return feedLatency(started, landed, {
      sequencer: 'in-process',
      seenBy: "the log read at each of the sequencer's append signals (in this process)",
      waitedMs: LANDING_WAIT_MS,
    });
  }

  const child = await sequencerProcess(settings);
  let polling = true;
  const poller = (async () => {
    while (polling) {
      await readNew();
      await sleep(POLL_MS);
    }
  })();
  try {
    await measure();
  } finally {
    polling = false;
    await stopProcess(child);
    // A failed read ends the poller; its error is the run's (not appends silently left out).
    await poller;
  }
  return feedLatency(started, landed, {
    sequencer: 'process',
    seenBy: `a reader in the writer's process polling the log every ${POLL_MS} ms (adds up to ${POLL_MS} ms and a read); the sequencer, es-cassandra-feed-sequencer in a child process, is woken by none of these appends`,
    waitedMs: LANDING_WAIT_MS,
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseFeedCommandLine(argv);
  if (options.report !== undefined) {
    process.stdout.write(feedTable(readFeedResults(fromCaller(options.report))));
    return;
  }
  const { sizes } = options;
  const settings = new CassandraSettings({
    url: serverUrl('cassandra'),
    keyspace: `es_bench_feed_${process.pid}`,
  });
  const started = new Date();
  const loadStart = loadavg();
  const datastore = new CassandraDatastore({ settings, tables: [plain, withFeed] });
  await datastore.setupConnection();
  await datastore.setupTables();
  try {
    const stores = {
      plain: new CassandraActiveRecordStrategy({ table: plain, datastore }),
      feed: new CassandraActiveRecordStrategy({ table: withFeed, datastore }),
    };
    // The hints written here are copied (and retired) by the throughput pass below.
    const costs: WriteCost[] = [];
    for (const [label, batch, count] of [
      ['single-event appends', 1, sizes.single],
      ['100-event batches', 100, sizes.batches],
    ] as const) {
      const rounds: Record<'plain' | 'feed', Timing[]> = { plain: [], feed: [] };
      for (let round = 0; round < sizes.rounds; round++)
        for (const kind of ['plain', 'feed'] as const)
          rounds[kind].push(await appends(stores[kind], count, batch));
      costs.push(writeCost(label, batch, count, rounds));
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

    const landing = await latency(options, stores.feed, datastore, settings);
    const results = {
      kind: 'bench:feed' as const,
      started: started.toISOString(),
      finished: new Date().toISOString(),
      command: argv,
      options,
      server: settings.address,
      source: sourceState(root),
      machine: machine(),
      load: { start: loadStart, end: loadavg() },
      writeCost: costs,
      throughput: { events: copied, seconds: copySeconds, eventsPerSecond: copied / copySeconds },
      latency: landing,
    };
    process.stdout.write(feedTable(results));
    if (options.out !== undefined) {
      const out = fromCaller(options.out);
      writeFeedResults(out, results);
      process.stderr.write(`bench:feed: results written to ${out}\n`);
    }
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
