/**
 * Where a MariaDB (or PostgreSQL) load of a 10,000-event stream spends its WALL time, @es against the raw driver, in ONE
 * process, the variants taking turns (the order turning each round): per load, wall ms, this process's
 * CPU ms, the server's CPU ms (mariadbd's threads, /proc/<pid>/stat: a shared server, so other clients'
 * work shows too) and the statements sent (mysql2's `execute` and `query`, counted). Minimum and median
 * of the rounds. Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && ES_SQL_URL=mysql://root@127.0.0.1:3306/<db of your own> \
 *       npx tsx probes/sql-load-wall.ts [variants] [rounds] [loads per round]
 *
 * ES_SQL_URL may name PostgreSQL (then only `raw`, `lib*`, `log*`), or a port of probes/latency-proxy.mjs
 * (a fixed delay on every answer, whatever the machine's load).
 *
 * Variants (all read the same stream of one table, written by @es; the raw adapter its own copy):
 * - `raw`: the bench's raw adapter (src/adapters/raw-mysql.ts): one `execute`, `data` only, rows as objects.
 * - `m2-data`: the same statement and rows on @es's table (mysql2/promise, a pool of 10).
 * - `m2-3col`: `position, topic, data` as arrays (what @es asks), one `execute`.
 * - `m2-3col-pages`: the same in pages of 5,000 (`limit ?`), one after the other, as @es reads them.
 * - `m2-3col-query`: one statement, text protocol (`query`), arrays.
 * - `lib`: `EventSourcedRepository.get` as the bench's library adapter makes it (pages of 5,000).
 * - `lib-1page`: the same repository with `pageSize: 10_001` (one statement for the whole stream).
 * - `lib-items`: the strategy alone (`getItems` of the whole stream, no decoding): @es/sql's share.
 * - `lib-decode`: `EventStore.getDomainEvents` of the whole stream in one statement (items and decoding).
 * - `lib-before`: `lib` over a strategy with `readsStartLater: false` (commit ef20316's option: its read
 *   ahead as before it).
 * - `log`, `log-before`, `raw-log`: the log of the same 10,000 events from the start in pages of 1,000
 *   (`NotificationLogReader.readEventPages`; the raw adapter's `readLog` on its own table).
 * The `m2-*` variants (MariaDB only) do `JSON.parse` per row and the raw adapter's fold.
 */
import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { serverUrl } from '@es/servers';
import {
  type ApplicationRecorder,
  EventSourcedRepository,
  EventStore,
  NotificationLogReader,
  SequencedItemMapper,
  type VersionedEntityEvent,
} from '@es/core';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';
import mysql from 'mysql2/promise';
import mysqlCallbacks from 'mysql2';
import { benchEvents } from '../src/adapters/library.js';
import { rawMysql } from '../src/adapters/raw-mysql.js';
import { rawPostgres } from '../src/adapters/raw-postgres.js';
import { BenchEntity, type FoldedState, fold } from '../src/domain.js';

const url = process.env.ES_SQL_URL ?? serverUrl('mysql');
const isMysql = url.startsWith('mysql');
const names = (
  process.argv[2] ?? 'raw,m2-data,m2-3col,m2-3col-pages,m2-3col-query,lib,lib-1page,lib-items,lib-decode'
).split(',');
const rounds = Number(process.argv[3] ?? 11);
const perRound = Number(process.argv[4] ?? 3);
const LENGTH = 10_000;
const TABLE = 'es_wall_events';
const pid = isMysql ? Number(execSync('pgrep -x mariadbd || pgrep -x mysqld').toString().split('\n')[0]) : 0;

function serverMs(): number {
  if (!isMysql) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// Statements sent, counted on mysql2's own connection class (the promise API and pools go through it).
let statements = 0;
const proto: Record<string, (...args: unknown[]) => unknown> = isMysql
  ? (
      mysqlCallbacks as unknown as {
        Connection: { prototype: Record<string, (...args: unknown[]) => unknown> };
      }
    ).Connection.prototype
  : (
      (await import('pg')) as unknown as {
        default: { Client: { prototype: Record<string, (...args: unknown[]) => unknown> } };
      }
    ).default.Client.prototype;
for (const method of isMysql ? (['execute', 'query'] as const) : (['query'] as const)) {
  const original = proto[method]!;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    statements++;
    return original.apply(this, args);
  };
}

const table = SqlIntegerSequencedItem.withTableName(TABLE);
const datastore = new SqlDatastore({ settings: new SqlSettings({ url }), tables: [table] });
await datastore.setupConnection();
await datastore.dropTables();
await datastore.setupTables();
const strategy = new SqlActiveRecordStrategy({ datastore, table });
const mapper = new SequencedItemMapper();
const eventStore = new EventStore<VersionedEntityEvent>({
  activeRecordStrategy: strategy,
  sequencedItemMapper: mapper,
});
const repository = new EventSourcedRepository({ eventStore, mutator: BenchEntity.mutate });
// The same table and datastore, the read ahead as before Round 2h (no turn: see readAhead).
// `readsStartLater` is the option of commit ef20316 (not merged: docs/benchmarks.md, Round 2h: reads);
// on a build without it, `lib-before` and `log-before` run the same code as `lib` and `log`.
const beforeOptions = { datastore, table, readsStartLater: false };
const before = new SqlActiveRecordStrategy(beforeOptions);
const eventStoreBefore = new EventStore<VersionedEntityEvent>({
  activeRecordStrategy: before,
  sequencedItemMapper: mapper,
});
const repositoryBefore = new EventSourcedRepository({
  eventStore: eventStoreBefore,
  mutator: BenchEntity.mutate,
});
const readLog = async (recorder: SqlActiveRecordStrategy) => {
  let n = 0;
  for await (const page of new NotificationLogReader(
    recorder as unknown as ApplicationRecorder,
    mapper,
  ).readEventPages({ pageSize: 1000 }))
    n += page.length;
  return n;
};
const onePage = new EventSourcedRepository({ eventStore, mutator: BenchEntity.mutate, pageSize: LENGTH + 1 });
const stream = randomUUID();
const specs = (n: number, from: number) =>
  Array.from({ length: n }, (_, i) => ({ created: from + i === 0, value: `v${from + i}:${randomUUID()}` }));
for (let v = 0; v < LENGTH; v += 100) await eventStore.append(benchEvents(stream, v, specs(100, v)));

const raw = isMysql ? rawMysql(url) : rawPostgres(url);
await raw.open();
const rawStream = randomUUID();
for (let v = 0; v < LENGTH; v += 100) await raw.append(rawStream, v, raw.prepare(specs(100, v)));

const pool = isMysql
  ? mysql.createPool({ uri: url, connectionLimit: 10 })
  : (undefined as unknown as mysql.Pool);
const t = `\`${TABLE}\``;
const dataSql = `SELECT data FROM ${t} WHERE sequence_id = ? AND position >= ? ORDER BY position`;
const threeSql = `select \`position\`, \`topic\`, \`data\` from ${t} where \`sequence_id\` = ? and \`position\` >= ? order by \`position\` asc`;
const pageSql = `${threeSql} limit ?`;
const foldArrays = (rows: unknown[][], state: FoldedState) => {
  for (const row of rows) fold(state, JSON.parse(row[2] as string) as { value: string });
};
const variants: Record<string, () => Promise<number>> = {
  raw: () => raw.load(rawStream, false),
  'm2-data': async () => {
    const state = { version: 0, value: '' };
    const [rows] = await pool.execute<mysql.RowDataPacket[]>(dataSql, [stream, 0]);
    for (const row of rows) fold(state, JSON.parse(row.data as string) as { value: string });
    return state.version;
  },
  'm2-3col': async () => {
    const state = { version: 0, value: '' };
    const [rows] = await pool.execute({ sql: threeSql, rowsAsArray: true }, [stream, 0]);
    foldArrays(rows as unknown[][], state);
    return state.version;
  },
  'm2-3col-pages': async () => {
    const state = { version: 0, value: '' };
    for (let from = 0; ;) {
      const [rows] = await pool.execute({ sql: pageSql, rowsAsArray: true }, [stream, from, 5000]);
      const page = rows as unknown[][];
      foldArrays(page, state);
      if (page.length < 5000) break;
      from = Number(page[page.length - 1]![0]) + 1;
    }
    return state.version;
  },
  'm2-3col-limit': async () => {
    const state = { version: 0, value: '' };
    const [rows] = await pool.execute({ sql: pageSql, rowsAsArray: true }, [stream, 0, LENGTH + 1]);
    foldArrays(rows as unknown[][], state);
    return state.version;
  },
  // Only the empty read past the end (what a load in full pages adds last), and a read of one row.
  'm2-empty': async () => {
    await pool.execute({ sql: pageSql, rowsAsArray: true }, [stream, LENGTH, 5000]);
    return LENGTH;
  },
  'm2-one': async () => {
    await pool.execute({ sql: pageSql, rowsAsArray: true }, [stream, LENGTH - 1, 5000]);
    return LENGTH;
  },
  'm2-3col-query': async () => {
    const state = { version: 0, value: '' };
    const [rows] = await pool.query({ sql: threeSql, rowsAsArray: true }, [stream, 0]);
    foldArrays(rows as unknown[][], state);
    return state.version;
  },
  lib: async () => (await repository.get(stream)).version,
  'lib-before': async () => (await repositoryBefore.get(stream)).version,
  log: () => readLog(strategy),
  'log-before': () => readLog(before),
  'raw-log': () => raw.readLog(LENGTH, 1000),
  'lib-1page': async () => (await onePage.get(stream)).version,
  'lib-items': async () => (await strategy.getItems(stream)).length,
  'lib-decode': async () => (await eventStore.getDomainEvents(stream)).length,
};
for (const name of names) {
  const run = variants[name];
  if (run === undefined) throw new Error(`no variant ${name}`);
  for (let i = 0; i < 3; i++) {
    const got = await run();
    if (got !== LENGTH) throw new Error(`${name}: ${got} events, expected ${LENGTH}`);
  }
}

const samples = new Map<string, { wall: number[]; cpu: number[]; server: number[]; statements: number }>();
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const loadAtStart = loadAvg();
for (let r = 0; r < rounds; r++) {
  const k = r % names.length;
  const order = [...names.slice(k), ...names.slice(0, k)];
  if (r % 2 === 1) order.reverse();
  for (const name of order) {
    const run = variants[name]!;
    const s0 = statements;
    const c0 = process.cpuUsage();
    const v0 = serverMs();
    const w0 = performance.now();
    for (let i = 0; i < perRound; i++) await run();
    const wall = (performance.now() - w0) / perRound;
    const server = (serverMs() - v0) / perRound;
    const c = process.cpuUsage(c0);
    const entry = samples.get(name) ?? { wall: [], cpu: [], server: [], statements: 0 };
    entry.wall.push(wall);
    entry.cpu.push((c.user + c.system) / 1000 / perRound);
    entry.server.push(server);
    entry.statements = (statements - s0) / perRound;
    samples.set(name, entry);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (xs: number[]) =>
  `${median(xs).toFixed(1).padStart(6)} (${Math.min(...xs)
    .toFixed(1)
    .padStart(5)})`;
console.log(
  `ms per ${LENGTH}-event load, median (min) of ${rounds} rounds of ${perRound}; load ${loadAtStart} -> ${loadAvg()}`,
);
console.log(`${'variant'.padEnd(14)} statements        wall    client CPU    server CPU`);
for (const name of names) {
  const e = samples.get(name)!;
  console.log(
    `${name.padEnd(14)} ${String(e.statements).padStart(10)} ${f(e.wall)} ${f(e.cpu)} ${f(e.server)}`,
  );
}
if (isMysql) await pool.end();
await raw.close();
await datastore.close();
