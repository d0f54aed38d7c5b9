/**
 * A MariaDB load from a snapshot (the bench's: a 10,000-event stream, its snapshot at its end), @es
 * against mysql2 alone, in ONE process, the variants taking turns: wall and CPU µs per load, statements
 * sent, and the server's work per statement shape (`SHOW SESSION STATUS` deltas on a connection of its
 * own). Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && ES_MYSQL_URL=mysql://root@127.0.0.1:3306/<db of your own> \
 *       npx tsx probes/mysql-snapshot-wall.ts [variants] [rounds] [loads per round]
 *
 * Variants: `raw` (the bench's raw adapter: the newest snapshot, then the events from its version, two
 * statements); `lib` (the bench's library adapter: `EventSourcedRepository.get` with a SnapshotStrategy,
 * one statement, see selectSnapshotTail); `m2-lib` (that statement, as the store sent it, through
 * mysql2/promise `execute`, arrays); `m2-two` (raw's two statements on the library's tables).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { serverUrl } from '@es/servers';
import mysql from 'mysql2/promise';
import mysqlCallbacks from 'mysql2';
import type { BenchAdapter, EventSpec } from '../src/adapter.js';
import { libraryMysql } from '../src/adapters/library-mysql.js';
import { rawMysql } from '../src/adapters/raw-mysql.js';

const url = serverUrl('mysql');
const names = (process.argv[2] ?? 'raw,lib,m2-lib,m2-two').split(',');
const rounds = Number(process.argv[3] ?? 15);
const perRound = Number(process.argv[4] ?? 100);
const LENGTH = 10_000;

// Statements sent, counted (and the store's snapshot statement kept) on mysql2's connection class.
let statements = 0;
let tailSql: { sql: string; params: (string | number)[] } | undefined;
const proto = (
  mysqlCallbacks as unknown as { Connection: { prototype: Record<string, (...args: unknown[]) => unknown> } }
).Connection.prototype;
for (const method of ['execute', 'query'] as const) {
  const original = proto[method]!;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    statements++;
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { sql?: string }).sql;
    if (text?.includes('union all') && tailSql === undefined)
      tailSql = { sql: text, params: [...(args[1] as (string | number)[])] };
    return original.apply(this, args);
  };
}

const specs = (n: number, from: number): EventSpec[] =>
  Array.from({ length: n }, (_, i) => ({ created: from + i === 0, value: `v${from + i}:${randomUUID()}` }));
const lib = libraryMysql(url);
const raw = rawMysql(url);
const streams = new Map<string, string>();
// `any`: the two adapters' row types differ; each appends its own rows.
for (const [name, adapter] of [
  ['lib', lib],
  ['raw', raw],
] as [string, BenchAdapter<any>][]) {
  await adapter.open();
  const stream = randomUUID();
  for (let v = 0; v < LENGTH; v += 100) await adapter.append(stream, v, adapter.prepare(specs(100, v)));
  await adapter.takeSnapshot(stream);
  streams.set(name, stream);
}
await lib.load(streams.get('lib')!, true);
if (tailSql === undefined) throw new Error('the library sent no snapshot-and-events statement');
console.log(`the store's statement: ${tailSql.sql}\n  params ${JSON.stringify(tailSql.params)}`);

const pool = mysql.createPool({ uri: url, connectionLimit: 10 });
const libStream = streams.get('lib')!;
const two = [
  'SELECT position, data FROM es_bench_snapshots WHERE sequence_id = ? ORDER BY position DESC LIMIT 1',
  'SELECT data FROM es_bench_events WHERE sequence_id = ? AND position >= ? ORDER BY position',
];
const variants: Record<string, () => Promise<unknown>> = {
  raw: () => raw.load(streams.get('raw')!, true),
  lib: () => lib.load(libStream, true),
  'm2-lib': async () => {
    const [rows] = await pool.execute({ sql: tailSql!.sql, rowsAsArray: true }, tailSql!.params);
    return (rows as unknown[]).length;
  },
  'm2-two': async () => {
    const [snap] = await pool.execute<mysql.RowDataPacket[]>(two[0]!, [libStream]);
    JSON.parse(snap[0]!.data as string);
    const [rows] = await pool.execute<mysql.RowDataPacket[]>(two[1]!, [
      libStream,
      Number(snap[0]!.position) + 1,
    ]);
    return rows.length;
  },
};

// The server's work per statement, on one connection: its session counters before and after.
const session = await mysql.createConnection({ uri: url });
const counters = async () => {
  const [rows] = await session.query<mysql.RowDataPacket[]>(
    `show session status where Variable_name in ('Handler_read_key','Handler_read_next','Handler_read_prev','Handler_read_rnd_next','Handler_write','Created_tmp_tables','Created_tmp_disk_tables','Sort_rows','Select_scan','Select_range')`,
  );
  return new Map(rows.map((r) => [r.Variable_name as string, Number(r.Value)]));
};
for (const [shape, run] of [
  ["the store's statement", () => session.execute(tailSql!.sql, tailSql!.params)],
  [
    "raw's two",
    async () => {
      await session.execute(two[0]!, [libStream]);
      await session.execute(two[1]!, [libStream, LENGTH]);
    },
  ],
] as const) {
  await run();
  const before = await counters();
  await run();
  const after = await counters();
  const delta = [...after].map(([k, v]) => `${k} ${v - before.get(k)!}`);
  console.log(`${shape}: ${delta.join(', ')}`);
}
await session.end();

for (const name of names) for (let i = 0; i < 200; i++) await variants[name]!();
const samples = new Map<string, { wall: number[]; cpu: number[]; statements: number }>();
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
    const w0 = performance.now();
    for (let i = 0; i < perRound; i++) await run();
    const wall = ((performance.now() - w0) * 1000) / perRound;
    const c = process.cpuUsage(c0);
    const entry = samples.get(name) ?? { wall: [], cpu: [], statements: 0 };
    entry.wall.push(wall);
    entry.cpu.push((c.user + c.system) / perRound);
    entry.statements = (statements - s0) / perRound;
    samples.set(name, entry);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (xs: number[]) =>
  `${median(xs).toFixed(0).padStart(6)} (${Math.min(...xs)
    .toFixed(0)
    .padStart(5)})`;
console.log(
  `µs per load from a snapshot, median (min) of ${rounds} rounds of ${perRound}; load ${loadAtStart} -> ${loadAvg()}`,
);
console.log(`${'variant'.padEnd(8)} statements        wall    client CPU`);
for (const name of names) {
  const e = samples.get(name)!;
  console.log(`${name.padEnd(8)} ${String(e.statements).padStart(10)} ${f(e.wall)} ${f(e.cpu)}`);
}
await pool.end();
await lib.close();
await raw.close();
