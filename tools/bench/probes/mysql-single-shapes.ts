/**
 * Server CPU per append on MariaDB by statement shape, one connection, the shapes taking turns: the
 * server thread's run time (/proc/<mariadbd>/task/<tid>/schedstat) and the statements' SHOW SESSION
 * STATUS deltas (temporary tables, sorted rows, handler reads and writes). The library's statement
 * text as src/mysql.ts makes it (one event; a batch's JSON_TABLE and ELT), the same without its
 * contiguity check or its ORDER BY, and raw mysql2's INSERT ... VALUES. Not a test, not part of
 * `pnpm bench`.
 *
 *     cd tools/bench && npx tsx probes/mysql-single-shapes.ts [rounds] [appends]   (BATCH=100 for batches)
 */
import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { serverUrl } from '@es/servers';
import mysql from 'mysql2/promise';

const url = serverUrl('mysql');
const pid = Number(execSync('pgrep -x mariadbd || pgrep -x mysqld').toString().split('\n')[0]);
const rounds = Number(process.argv[2] ?? 5);
const n = Number(process.argv[3] ?? 300);
/** Events per append: 1 (the single-event shapes), or a batch (the batch shapes, e.g. 100). */
const B = Number(process.env.BATCH ?? 1);
const SLOTS = 2 ** Math.ceil(Math.log2(B));
const T = 'es_probe_shapes';
const c = await mysql.createConnection({ uri: url });
await c.query(`drop table if exists ${T}, ${T}_lock`);
await c.query(`create table ${T} (id bigint not null auto_increment, sequence_id varbinary(1020) not null,
  position bigint not null, topic varchar(255) character set utf8mb4 collate utf8mb4_bin not null,
  data longtext character set utf8mb4 collate utf8mb4_bin not null, primary key (sequence_id, position),
  unique key ${T}_id_key (id)) engine=InnoDB`);
await c.query(`create table ${T}_lock (id int primary key) engine=InnoDB`);
await c.query(`insert into ${T}_lock values (1)`);
const [[{ tid }]] = (await c.query(
  'select tid from information_schema.processlist where id = connection_id()',
)) as any;
const runNs = () => Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
const cols = `${T} (sequence_id, position, topic, data)`;
const check = ` and (select coalesce(max(s.position), -1) from ${T} as s where s.sequence_id = ? and l.id = 1) = ?`;
const slots = new Array(SLOTS).fill('?').join(', ');
const batchRows = (p: number) => JSON.stringify(Array.from({ length: B }, (_, k) => p + k));
const batchParams = (s: string, p: number, d: string) => {
  const topics = Array.from({ length: SLOTS }, (_, k) => (k < B ? 't' : null));
  const data = Array.from({ length: SLOTS }, (_, k) => (k < B ? d : null));
  return [s, ...topics, ...data, batchRows(p), s, p - 1];
};
const batchInsert = (orderBy: string) =>
  `insert into ${cols} select ?, i.position, elt(i.n, ${slots}), elt(i.n, ${slots}) from ${T}_lock as l join json_table(?, '$[*]' columns (n for ordinality, position bigint path '$')) as i where l.id = 1${check}${orderBy} for update`;
type Shape = {
  sql: string;
  params: (s: string, p: number, d: string) => (string | number | null)[];
  fresh?: boolean;
};
const batches: Record<string, Shape> = {
  library: { sql: batchInsert(' order by i.n'), params: batchParams },
  'library at 0': { sql: batchInsert(' order by i.n'), params: batchParams, fresh: true },
  'at 0, no check': {
    sql: batchInsert(' order by i.n').replace(check, ''),
    params: (s, p, d) => batchParams(s, p, d).slice(0, -2),
    fresh: true,
  },
  // Raw's INSERT ... VALUES, the first row's position from a subquery that locks the lock row and
  // checks the head (null, so refused by NOT NULL, when the batch does not continue the sequence).
  'values, lock in row 1': {
    sql: `insert into ${cols} values (?, (select ? from ${T}_lock as l where l.id = 1${check} for update), ?, ?)${', (?, ?, ?, ?)'.repeat(B - 1)}`,
    params: (s, p, d) => [
      s,
      p,
      s,
      p - 1,
      't',
      d,
      ...Array.from({ length: B - 1 }, (_, k) => [s, p + k + 1, 't', d]).flat(),
    ],
  },
  // Without ELT (every row the same topic and data), to see what ELT costs per row.
  'at 0, no check, no elt': {
    sql: batchInsert(' order by i.n')
      .replace(check, '')
      .replace(`elt(i.n, ${slots}), elt(i.n, ${slots})`, `'t', '{"value":"x"}'`),
    params: (s, p) => [s, batchRows(p)],
    fresh: true,
  },
  // A table value constructor of (n, position) rows (MariaDB 10.3+), padding rows' positions null.
  tvc: {
    sql: `insert into ${cols} select ?, i.p, elt(i.n, ${slots}), elt(i.n, ${slots}) from ${T}_lock as l join (with t(n, p) as (values ${Array.from({ length: SLOTS }, (_, k) => `(${k + 1}, cast(? as signed))`).join(', ')}) select * from t) as i where l.id = 1 and i.p is not null${check} order by i.n for update`,
    params: (s, p, d) => {
      const x = batchParams(s, p, d);
      const positions = Array.from({ length: SLOTS }, (_, k) => (k < B ? p + k : null));
      return [...x.slice(0, 1 + 2 * SLOTS), ...positions, s, p - 1];
    },
  },
  // The SEQUENCE engine's seq_1_to_N (MariaDB; not in MySQL), positions from the first one.
  seq: {
    sql: `insert into ${cols} select ?, ? + i.seq, elt(i.seq, ${slots}), elt(i.seq, ${slots}) from ${T}_lock as l join seq_1_to_${SLOTS} as i where l.id = 1 and i.seq <= ?${check} order by i.seq for update`,
    params: (s, p, d) => {
      const x = batchParams(s, p, d);
      return [s, p - 1, ...x.slice(1, 1 + 2 * SLOTS), B, s, p - 1];
    },
  },
  raw: {
    sql: `insert into ${cols} values ${Array.from({ length: B }, () => '(?, ?, ?, ?)').join(', ')}`,
    params: (s, p, d) => Array.from({ length: B }, (_, k) => [s, p + k, 't', d]).flat(),
  },
};
const singleLibrary: Shape = {
  sql: `insert into ${cols} select ?, ?, ?, ? from ${T}_lock as l where l.id = 1${check} for update`,
  params: (s, p, d) => [s, p, 't', d, s, p - 1],
};
const singles: Record<string, Shape> = {
  library: singleLibrary,
  'library at 0': { ...singleLibrary, fresh: true },
  'at 0, no check': {
    sql: `insert into ${cols} select ?, ?, ?, ? from ${T}_lock as l where l.id = 1 for update`,
    params: (s, p, d) => [s, p, 't', d],
    fresh: true,
  },
  'values, lock in row 1': {
    sql: `insert into ${cols} values (?, (select ? from ${T}_lock as l where l.id = 1${check} for update), ?, ?)`,
    params: (s, p, d) => [s, p, s, p - 1, 't', d],
  },
  raw: { sql: `insert into ${cols} values (?, ?, ?, ?)`, params: (s, p, d) => [s, p, 't', d] },
};
const shapes = B === 1 ? singles : batches;
const status = async () => {
  const [rows] = (await c.query(
    "show session status where variable_name in ('Created_tmp_tables','Handler_read_key','Handler_write','Handler_read_next','Handler_read_rnd_next','Handler_read_last','Handler_read_prev','Sort_rows','Created_tmp_disk_tables','Handler_tmp_write')",
  )) as any;
  return new Map<string, number>(rows.map((r: any) => [r.Variable_name, Number(r.Value)]));
};
const results = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  const names = Object.keys(shapes);
  if (r % 2) names.reverse();
  for (const name of names) {
    const shape = shapes[name]!;
    const streams = Array.from({ length: n }, () => randomUUID());
    if (!shape.fresh) for (const s of streams) await c.execute(shape.sql, shape.params(s, 0, '{"v":0}'));
    // Batches: the measured appends continue each stream at B.
    const before = await status();
    const t0 = runNs();
    for (const s of streams)
      await c.execute(shape.sql, shape.params(s, shape.fresh ? 0 : B, `{"value":"${randomUUID()}"}`));
    const us = (runNs() - t0) / 1000 / n;
    const after = await status();
    results.set(name, [...(results.get(name) ?? []), us]);
    if (r === 0)
      console.log(
        name,
        [...after].map(([k, v]) => `${k} ${((v - before.get(k)!) / n).toFixed(2)}`).join(', '),
      );
  }
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`server thread CPU µs per append of ${B}, ${rounds} rounds of ${n}, load ${load}: median (min)`);
for (const [name, xs] of results) {
  const s = [...xs].sort((a, b) => a - b);
  console.log(`${name.padEnd(16)} ${s[s.length >> 1]!.toFixed(0)} (${s[0]!.toFixed(0)})`);
}
await c.query(`drop table ${T}, ${T}_lock`);
await c.end();
