/**
 * The driver side of a MariaDB read, @es/sql against mysql2 alone: this process's CPU time per read of
 * a 10,000-row stream (or 10 pages of 1,000 notifications), for the same rows of the same table, by
 * mysql2's ways of asking (prepared `execute` or text `query`, rows as objects or arrays) and by the
 * store's (`SqlConnection.select`, then `getItems`, which adds the SequencedItem of each row; the
 * core's decoding into events comes after, and is not measured here). Not a test, not part of `pnpm
 * bench`.
 *
 *     cd tools/bench && NODE_OPTIONS=--expose-gc npx tsx probes/mysql-reads.ts load|log   (ROUNDS=5, READS=10)
 */
import { randomUUID } from 'node:crypto';
import { SequencedItem } from '@es/core';
import { serverUrl } from '@es/servers';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';
import mysql from 'mysql2/promise';

const url = serverUrl('mysql');
const what = process.argv[2] ?? 'load';
const ROWS = 10_000;
const PAGE = 1_000;
const READS = Number(process.env.READS ?? 10);
const TABLE = 'es_probe_reads';

async function main(): Promise<void> {
  const table = SqlIntegerSequencedItem.withTableName(TABLE);
  const datastore = new SqlDatastore({ settings: new SqlSettings({ url, poolSize: 2 }), tables: [table] });
  await datastore.setupConnection();
  await datastore.dropTables();
  await datastore.setupTables();
  const strategy = new SqlActiveRecordStrategy({ datastore, table });
  const stream = randomUUID();
  for (let from = 0; from < ROWS; from += 1000) {
    await strategy.append(
      Array.from(
        { length: 1000 },
        (_, k) =>
          new SequencedItem(
            stream,
            from + k,
            'bench.Changed',
            JSON.stringify({ value: `v${from + k}:`.padEnd(64, '.'), at: '2026-12-01T00:00:00.000Z' }),
          ),
      ),
    );
  }
  const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
  const load = `select \`position\`, \`topic\`, \`data\` from \`${TABLE}\` where \`sequence_id\` = ? order by \`position\` asc`;
  const log = `select \`id\`, \`sequence_id\`, \`position\`, \`topic\`, \`data\` from \`${TABLE}\` where \`id\` >= ? order by \`id\` limit ?`;
  /** One read: the whole stream, or the log in pages; each way gets the statement and its parameters. */
  const read = async (way: (sql: string, params: unknown[]) => Promise<unknown[]>) => {
    if (what === 'load') return void (await way(load, [stream]));
    for (let next = 0, n = 0; n < ROWS; n += PAGE) {
      const rows = await way(log, [next, PAGE]);
      const last = rows[rows.length - 1] as unknown[] | { id: number };
      next = Number(Array.isArray(last) ? last[0] : last.id) + 1;
    }
  };
  const ways: Record<string, (sql: string, params: unknown[]) => Promise<unknown[]>> = {
    'execute objects': async (sql, params) => (await pool.execute(sql, params as never))[0] as unknown[],
    // The raw bench adapter's load asks for the data column alone (its log, for the five columns).
    "raw adapter's statement": async (sql, params) =>
      (
        await pool.execute(
          what === 'load'
            ? `select data from \`${TABLE}\` where sequence_id = ? and position >= ? order by position`
            : sql,
          (what === 'load' ? [...params, 0] : params) as never,
        )
      )[0] as unknown[],
    'execute arrays': async (sql, params) =>
      (await pool.execute({ sql, rowsAsArray: true }, params as never))[0] as unknown[],
    'query arrays': async (sql, params) =>
      (await pool.query({ sql, rowsAsArray: true }, params as never))[0] as unknown[],
    '@es select': (sql, params) =>
      datastore.use((connection) => connection.select(sql, params)) as Promise<unknown[]>,
    '@es getItems': async () =>
      what === 'load' ? strategy.getItems(stream) : strategy.selectNotifications(1, PAGE),
  };
  for (const way of Object.values(ways)) await read(way); // prepared, warm
  const results: Record<string, number[]> = {};
  for (let round = 0; round < Number(process.env.ROUNDS ?? 5); round++) {
    for (const [name, way] of Object.entries(ways)) {
      // Each way pays for its own garbage, not the last one's (run with NODE_OPTIONS=--expose-gc).
      (globalThis as { gc?: () => void }).gc?.();
      const c0 = process.cpuUsage();
      for (let i = 0; i < READS; i++) {
        // The strategy's log read is one page (of the first 1,000): ten of them make a read.
        if (name === '@es getItems' && what === 'log')
          for (let p = 0; p < ROWS / PAGE; p++) await way('', []);
        else await read(way);
      }
      const c = process.cpuUsage(c0);
      (results[name] ??= []).push((c.user + c.system) / READS / 1000);
    }
  }
  for (const [name, ms] of Object.entries(results)) {
    const sorted = [...ms].sort((a, b) => a - b);
    console.log(
      `${what} ${name}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} ms CPU per read (${ms.map((m) => m.toFixed(2)).join(' ')})`,
    );
  }
  await pool.end();
  await datastore.dropTables();
  await datastore.close();
}
void main();
