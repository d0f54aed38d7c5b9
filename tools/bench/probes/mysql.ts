/**
 * CPU time per append of @es/sql on MariaDB against mysql2's multi-row INSERT, on the server and in
 * this process: the server thread's run time (/proc/<mariadbd>/task/<thread>/schedstat: one connection
 * per side, one thread per connection) and process.cpuUsage. Readable on a loaded machine, where
 * wall-clock figures are not. Not a test, not part of `pnpm bench`: run it by hand on the database
 * server's machine, on two checkouts for a before/after.
 *
 *     cd tools/bench && npx tsx probes/mysql.ts single|batch   (ROUNDS=3, ES_MYSQL_URL, MARIADBD_PID)
 *
 * single: 300 one-event appends to new streams; batch: 40 appends of 100 events to new streams.
 */
import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SequencedItem } from '@es/core';
import { serverUrl } from '@es/servers';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';
import mysql from 'mysql2/promise';

const url = serverUrl('mysql');
const pid = Number(
  process.env.MARIADBD_PID ?? execSync('pgrep -x mariadbd || pgrep -x mysqld').toString().split('\n')[0],
);
const what = process.argv[2] ?? 'single';
const [appends, size] = what === 'batch' ? [40, 100] : [300, 1];
const data = (k: number) => JSON.stringify({ value: `v${k}:${randomUUID()}` });

/** Nanoseconds the server threads serving these connection ids have run. */
async function serverNs(admin: mysql.Connection, ids: readonly number[]): Promise<number> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    `select tid from information_schema.processlist where id in (${ids.join(', ')})`,
  );
  return rows.reduce(
    (sum, r) => sum + Number(readFileSync(`/proc/${pid}/task/${r.tid}/schedstat`, 'utf8').split(' ')[0]),
    0,
  );
}

async function main(): Promise<void> {
  const table = SqlIntegerSequencedItem.withTableName('es_probe_items');
  const datastore = new SqlDatastore({ settings: new SqlSettings({ url, poolSize: 1 }), tables: [table] });
  await datastore.setupConnection();
  await datastore.dropTables();
  await datastore.setupTables();
  const strategy = new SqlActiveRecordStrategy({ datastore, table });
  const admin = await mysql.createConnection({ uri: url });
  const raw = await mysql.createConnection({ uri: url });
  const [[own]] = await raw.query<mysql.RowDataPacket[]>('select connection_id() as id');
  const insert = `insert into es_probe_items (sequence_id, position, topic, data) values ${Array.from({ length: size }, () => '(?, ?, ?, ?)').join(', ')}`;
  const sides = {
    library: (id: string) =>
      strategy.append(
        Array.from({ length: size }, (_, k) => new SequencedItem(id, k, 'probe.Event', data(k))),
      ),
    raw: async (id: string) => {
      const params: (string | number)[] = [];
      for (let k = 0; k < size; k++) params.push(id, k, 'probe.Event', data(k));
      await raw.execute(insert, params);
    },
  };
  // The library's one pooled connection: every connection but the admin's and the raw side's.
  await sides.library(randomUUID());
  const [[lib]] = await admin.query<mysql.RowDataPacket[]>(
    `select id from information_schema.processlist where db = database() and id not in (connection_id(), ?) and command != 'Daemon' order by id desc limit 1`,
    [own!.id],
  );
  const threads = { library: [Number(lib!.id)], raw: [Number(own!.id)] };
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    const line: string[] = [];
    for (const side of ['library', 'raw'] as const) {
      await sides[side](randomUUID()); // prepared before the clock
      const s0 = await serverNs(admin, threads[side]);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < appends; i++) await sides[side](randomUUID());
      const wall = (performance.now() - t0) / appends;
      const c = process.cpuUsage(c0);
      const server = ((await serverNs(admin, threads[side])) - s0) / 1000 / appends;
      line.push(
        `${side} server ${server.toFixed(0)} µs, client ${((c.user + c.system) / appends).toFixed(0)} µs, wall ${wall.toFixed(2)} ms`,
      );
    }
    console.log(`${what} round ${round + 1}: ${line.join(' | ')}`);
  }
  await Promise.all([admin.end(), raw.end()]);
  await datastore.dropTables();
  await datastore.close();
}
void main();
