import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SequencedItemMapper } from '@es/core';
import { SqlActiveRecordStrategy, SqlIntegerSequencedItem, SqlTracking } from '../src/index.js';
import { Scored, topics } from './children/scores.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

/**
 * Exactly-once under SIGKILL: a projection runner in a child process is killed at random points while
 * it works through 10,000 events in 100 streams, restarted each time, and finally run until caught up.
 * Its read model (a total and a count per stream) must equal what the log says: an event applied twice
 * would add to both, one lost would be missing. Then two runners of one projection compete over the
 * same events, one of them killed and restarted: each notification's effects are counted one by one.
 */
const STREAMS = 100;
const PER_STREAM = 100;
const KILLS = 3;
// tsx as a loader in the runner's own process: its CLI would run the script in a grandchild, which a
// SIGKILL of the child would leave running.
const tsx = require.resolve('tsx');
const child = join(__dirname, 'children', 'projection-runner.ts');
const tsconfig = join(__dirname, '..', 'tsconfig.json');

/** Every runner started; one a failed test leaves running is killed after it (afterEach). */
const started = new Set<ChildProcess>();
afterEach(() => {
  for (const proc of started) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  started.clear();
});

function startRunner(args: readonly string[]): {
  process: ChildProcess;
  output: () => string;
  positions: number[];
} {
  const proc = spawn(process.execPath, ['--import', tsx, child, ...args], {
    // stdin: the competing runners' `go` and `stop` (see the child).
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
  });
  started.add(proc);
  let output = '';
  const positions: number[] = [];
  proc.stdout!.on('data', (chunk: Buffer) => {
    output += chunk;
    for (const m of String(chunk).matchAll(/position (\d+)/g)) positions.push(Number(m[1]));
  });
  proc.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  return { process: proc, output: () => output, positions };
}

const exited = (proc: ChildProcess): Promise<number | null> =>
  proc.exitCode !== null || proc.signalCode !== null
    ? Promise.resolve(proc.exitCode)
    : new Promise((resolve) => proc.once('exit', (code) => resolve(code)));

/** Waits until `done` holds, or fails with `what` (and the runners' output) after 120 s. */
async function until(
  what: string,
  done: () => boolean | Promise<boolean>,
  runners: readonly { output: () => string }[],
): Promise<void> {
  for (const deadline = Date.now() + 120_000; !(await done());) {
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not after 120 s; the runners said:\n${runners.map((r) => r.output()).join('\n---\n')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The last `refused <n>` a competing runner printed: its pages a competitor had taken first. */
const refusedOf = (output: string): number => Number([...output.matchAll(/refused (\d+)/g)].at(-1)?.[1] ?? 0);

describeEachDialect('a projection runner killed with SIGKILL', (dialect) => {
  const events = SqlIntegerSequencedItem.withTableName(uniqueName('kill_events'));
  const tracking = SqlTracking.withTableName(uniqueName('kill_tracking'));
  // The competing runners' projection: tracked apart from the first test's, over the same events.
  const competing = SqlTracking.withTableName(uniqueName('compete_tracking'));
  const totals = uniqueName('kill_totals');
  const competingTotals = uniqueName('compete_totals');
  const effects = uniqueName('compete_effects');
  // Hooks run in the order defined: the read models are dropped before the datastore closes.
  afterAll(async () => {
    for (const table of [totals, competingTotals, effects])
      await datastore().db.schema.dropTable(table).ifExists().execute();
  });
  const datastore = useDatastore(dialect, [events, tracking, competing]);
  const createTotals = (name: string) =>
    datastore()
      .db.schema.createTable(name)
      .addColumn('stream', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('total', 'bigint', (c) => c.notNull())
      .addColumn('events', 'integer', (c) => c.notNull())
      .execute();
  const readTotals = async (name: string) => {
    const rows = await datastore().db.selectFrom(name).select(['stream', 'total', 'events']).execute();
    return new Map(rows.map((r) => [r.stream, { total: Number(r.total), events: Number(r.events) }]));
  };

  // The log both tests follow, and the read model it implies: written once.
  const expected = new Map<string, { total: number; events: number }>();
  beforeAll(async () => {
    const store = new SqlActiveRecordStrategy({ datastore: datastore(), table: events });
    const mapper = new SequencedItemMapper({ topics });
    for (let s = 0; s < STREAMS; s++) {
      const stream = randomUUID();
      const points = Array.from({ length: PER_STREAM }, () => 1 + Math.floor(Math.random() * 1000));
      await store.append(
        points.map((p, v) =>
          mapper.toSequencedItem(new Scored({ originatorId: stream, originatorVersion: v, points: p })),
        ),
      );
      expected.set(stream, { total: points.reduce((a, b) => a + b, 0), events: PER_STREAM });
    }
  }, 120_000);

  it(`loses and repeats nothing: ${STREAMS * PER_STREAM} events, ${KILLS} kills at random points, then a run to the end`, async () => {
    await createTotals(totals);
    const args = [dialect.url, events.tableName, tracking.tableName, totals];
    const killedAt: number[] = [];
    for (let round = 0; round < KILLS; round++) {
      // Odd rounds: killed inside a transaction, paused at a random event after writing part of its
      // page. Even rounds: killed at a random moment after it first reports progress.
      const inTransaction = round % 2 === 0;
      const pauseAt = 1 + Math.floor(Math.random() * 3000);
      const runner = startRunner(inTransaction ? [...args, '--pause-at', String(pauseAt)] : args);
      const deadline = Date.now() + 90_000;
      const ready = () => (inTransaction ? runner.output().includes('paused') : runner.positions.length > 0);
      while (!ready() && runner.process.exitCode === null && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 5));
      if (!inTransaction) await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
      runner.process.kill('SIGKILL');
      await exited(runner.process);
      const output = runner.output().replace(/(position|paused) \d+\n/g, '');
      expect({ signal: runner.process.signalCode, output }).toEqual({ signal: 'SIGKILL', output: '' });
      killedAt.push(runner.positions.at(-1) ?? 0);
      if (inTransaction) expect(runner.output()).toContain(`paused ${pauseAt}`);
    }
    const last = startRunner([...args, '--until-caught-up']);
    const code = await exited(last.process);
    expect({ code, output: code === 0 ? '' : last.output() }).toEqual({ code: 0, output: '' });
    expect(await readTotals(totals)).toEqual(expected);
    // The kills landed part-way (the positions each runner had committed when it was killed).
    expect(killedAt.some((p) => p < STREAMS * PER_STREAM)).toBe(true);
  }, 240_000);

  it(`two runners of one projection at once, one killed with SIGKILL and restarted: every one of the ${STREAMS * PER_STREAM} notifications has its effects exactly once`, async () => {
    const N = STREAMS * PER_STREAM;
    await createTotals(competingTotals);
    // One row per effect (no key: an event applied twice would be two rows, not an error).
    await datastore()
      .db.schema.createTable(effects)
      .addColumn('notification', 'bigint', (c) => c.notNull())
      .addColumn('stream', 'varchar(64)', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('runner', 'varchar(8)', (c) => c.notNull())
      .execute();
    const byRunner = async () =>
      new Map(
        (
          await datastore()
            .db.selectFrom(effects)
            .select(['runner', (eb) => eb.fn.countAll().as('n')])
            .groupBy('runner')
            .execute()
        ).map((r) => [r.runner, Number(r.n)]),
      );
    const applied = async () => [...(await byRunner()).values()].reduce((a, b) => a + b, 0);
    const args = [dialect.url, events.tableName, competing.tableName, competingTotals, '--effects', effects];
    const runners = new Map(['a', 'b'].map((id) => [id, startRunner([...args, '--runner', id, '--gate'])]));
    const all = () => [...runners.values()];
    // Both connected, then both started at once: from the same checkpoint, they go for the same pages.
    await until('both runners ready', () => all().every((r) => r.output().includes('ready')), all());
    for (const runner of all()) runner.process.stdin!.write('go\n');
    // Killed at a random point of the first half: the runner that has committed the most so far, so that
    // the other takes over from it mid-log.
    const killAfter = 1 + Math.floor(Math.random() * (N / 2));
    await until(`${killAfter} effects committed`, async () => (await applied()) >= killAfter, all());
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 50));
    const leader = [...(await byRunner()).entries()].sort((x, y) => y[1] - x[1])[0]![0];
    const killed = runners.get(leader)!;
    killed.process.kill('SIGKILL');
    await exited(killed.process);
    expect(killed.process.signalCode).toBe('SIGKILL');
    const atKill = await applied();
    runners.set(`${leader}2`, startRunner([...args, '--runner', `${leader}2`]));
    const live = () => all().filter((r) => r !== killed);
    const recorder = new SqlActiveRecordStrategy({
      datastore: datastore(),
      table: events,
      tracking: competing,
    });
    const last = await recorder.maxNotificationId();
    await until(
      'the projection caught up',
      async () => (await recorder.maxTrackingId('totals')) >= last,
      all(),
    );
    for (const runner of live()) runner.process.stdin!.write('stop\n');
    const codes = await Promise.all(live().map((r) => exited(r.process)));
    expect(codes.map((code, i) => (code === 0 ? 0 : live()[i]!.output()))).toEqual([0, 0]);

    // Each notification of the log applied exactly once: one effect row each, none twice, none missing.
    const rows = await datastore()
      .db.selectFrom(effects)
      .select(['notification', 'stream', 'version'])
      .orderBy('notification')
      .execute();
    const notifications = await recorder.selectNotifications(1, N + 1);
    expect(notifications).toHaveLength(N);
    const effectCounts = new Map<string, number>();
    for (const r of rows) {
      const key = `${Number(r.notification)} ${r.stream}@${Number(r.version)}`;
      effectCounts.set(key, (effectCounts.get(key) ?? 0) + 1);
    }
    const logged = new Set(notifications.map((n) => `${n.id} ${n.sequenceId}@${n.position}`));
    const first = (keys: Iterable<string>) => [...keys].slice(0, 5);
    expect({
      effects: rows.length,
      twice: first([...effectCounts].filter(([, n]) => n > 1).map(([key, n]) => `${key} x${n}`)),
      missing: first([...logged].filter((key) => !effectCounts.has(key))),
      notInLog: first([...effectCounts.keys()].filter((key) => !logged.has(key))),
    }).toEqual({ effects: N, twice: [], missing: [], notInLog: [] });
    // And the read model equals the one the full log implies.
    expect(await readTotals(competingTotals)).toEqual(expected);
    // It was a competition and a takeover: the runners raced for the same pages (a runner was refused
    // a page a competitor had taken), the kill landed part-way, and the killed runner had committed
    // effects, and so did another after it.
    const committed = await byRunner();
    expect(all().reduce((sum, r) => sum + refusedOf(r.output()), 0)).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(N);
    expect(committed.get(leader)).toBeGreaterThan(0);
    expect(N - committed.get(leader)!).toBeGreaterThan(0);
  }, 240_000);
});
