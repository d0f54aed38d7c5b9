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
 * would add to both, one lost would be missing.
 */
const STREAMS = 100;
const PER_STREAM = 100;
const KILLS = 3;
// tsx as a loader in the runner's own process: its CLI would run the script in a grandchild, which a
// SIGKILL of the child would leave running.
const tsx = require.resolve('tsx');
const child = join(__dirname, 'children', 'projection-runner.ts');
const tsconfig = join(__dirname, '..', 'tsconfig.json');

function startRunner(args: readonly string[]): {
  process: ChildProcess;
  output: () => string;
  positions: number[];
} {
  const proc = spawn(process.execPath, ['--import', tsx, child, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
  });
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

describeEachDialect('a projection runner killed with SIGKILL', (dialect) => {
  const events = SqlIntegerSequencedItem.withTableName(uniqueName('kill_events'));
  const tracking = SqlTracking.withTableName(uniqueName('kill_tracking'));
  const totals = uniqueName('kill_totals');
  // Hooks run in the order defined: the read model is dropped before the datastore closes.
  afterAll(async () => {
    await datastore().db.schema.dropTable(totals).ifExists().execute();
  });
  const datastore = useDatastore(dialect, [events, tracking]);

  it(`loses and repeats nothing: ${STREAMS * PER_STREAM} events, ${KILLS} kills at random points, then a run to the end`, async () => {
    await datastore()
      .db.schema.createTable(totals)
      .addColumn('stream', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('total', 'bigint', (c) => c.notNull())
      .addColumn('events', 'integer', (c) => c.notNull())
      .execute();
    const store = new SqlActiveRecordStrategy({ datastore: datastore(), table: events });
    const mapper = new SequencedItemMapper({ topics });
    const expected = new Map<string, { total: number; events: number }>();
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
    const rows = await datastore().db.selectFrom(totals).select(['stream', 'total', 'events']).execute();
    const actual = new Map(rows.map((r) => [r.stream, { total: Number(r.total), events: Number(r.events) }]));
    expect(actual).toEqual(expected);
    // The kills landed part-way (the positions each runner had committed when it was killed).
    expect(killedAt.some((p) => p < STREAMS * PER_STREAM)).toBe(true);
  }, 240_000);
});
