/**
 * 8 concurrent writers on MariaDB (the bench's scenarios 3 and 4, one-event appends), @es/sql against
 * mysql2's plain INSERT, interleaved in one process: events/s, this process's CPU and the server's (all
 * of mariadbd's threads, /proc/<pid>/stat) per event. Not a test, not part of `pnpm bench`: run it by
 * hand on the database server's machine. (Commit e032296 has a version that also turned MySQL's grouped
 * insert on and off: docs/benchmarks.md, "Round 2c: MariaDB".)
 *
 *     cd tools/bench && npx tsx probes/mysql-writers.ts writers|contention   (ROUNDS=3, APPENDS=100, COUNTERS=1, SHAPES=1)
 *
 * The sides take turns going first; COUNTERS=1 prints SHOW GLOBAL STATUS deltas per event (fsyncs, row
 * lock waits, statements, temporary tables); SHAPES=1 adds raw mysql2 through the lock row without the
 * contiguity check (see lockOnly).
 */
import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConcurrencyError, SequencedItem } from '@es/core';
import { serverUrl } from '@es/servers';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';
import mysql from 'mysql2/promise';
import { mulberry32 } from '../src/scenarios/contention.js';

const url = serverUrl('mysql');
const pid = Number(execSync('pgrep -x mariadbd || pgrep -x mysqld').toString().split('\n')[0]);
const what = process.argv[2] ?? 'writers';
const WRITERS = 8;
const STREAMS = 10;
const APPENDS = Number(process.env.APPENDS ?? 100);
const TABLE = 'es_probe_writers';
const data = (k: number) => JSON.stringify({ value: `v${k}:${randomUUID()}` });

/** mariadbd's CPU time, µs (clock ticks of 10 ms). */
function serverUs(): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Appends one event at `position`; false when the position is not the stream's next. */
type Append = (stream: string, position: number) => Promise<boolean>;
type Version = (stream: string) => Promise<number>;

async function main(): Promise<void> {
  const table = SqlIntegerSequencedItem.withTableName(TABLE);
  const datastore = new SqlDatastore({ settings: new SqlSettings({ url, poolSize: 10 }), tables: [table] });
  await datastore.setupConnection();
  await datastore.dropTables();
  await datastore.setupTables();
  const strategy = new SqlActiveRecordStrategy({ datastore, table });
  const pool = mysql.createPool({ uri: url, connectionLimit: 10 });
  const library: Append = async (stream, position) => {
    try {
      await strategy.append(new SequencedItem(stream, position, 'probe.Event', data(position)));
      return true;
    } catch (error) {
      if (ConcurrencyError.isInstance(error)) return false;
      throw error;
    }
  };
  const raw: Append = async (stream, position) => {
    try {
      await pool.execute(`insert into ${TABLE} (sequence_id, position, topic, data) values (?, ?, ?, ?)`, [
        stream,
        position,
        'probe.Event',
        data(position),
      ]);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'ER_DUP_ENTRY') return false;
      throw error;
    }
  };
  /**
   * SHAPES=1: raw mysql2 with the library's ordering but not its check (the lock row read FOR UPDATE in
   * the one statement; a taken position is a duplicate key, as raw's): what the lock alone costs.
   */
  const lockOnly: Append = async (stream, position) => {
    try {
      await pool.execute(
        `insert into ${TABLE} (sequence_id, position, topic, data) select ?, ?, ?, ? from ${table.lockTableName} as l where l.id = 1 for update`,
        [stream, position, 'probe.Event', data(position)],
      );
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'ER_DUP_ENTRY') return false;
      throw error;
    }
  };
  /** SHAPES=1: the same with a check of the previous position's row (a point read) instead of max(position). */
  const previousCheck: Append = async (stream, position) => {
    // A first position needs no check: a taken position 0 is a duplicate key.
    if (position === 0) return lockOnly(stream, position);
    try {
      const [header] = await pool.execute<mysql.ResultSetHeader>(
        `insert into ${TABLE} (sequence_id, position, topic, data) select ?, ?, ?, ? from ${table.lockTableName} as l where l.id = 1 and exists (select 1 from ${TABLE} as s where s.sequence_id = ? and s.position = ? and l.id = 1) for update`,
        [stream, position, 'probe.Event', data(position), stream, position - 1],
      );
      return header.affectedRows > 0;
    } catch (error) {
      if ((error as { code?: string }).code === 'ER_DUP_ENTRY') return false;
      throw error;
    }
  };
  /** SHAPES=1: the check @es sent before Round 2e, `max(position)` of the sequence, for a before/after. */
  const maxCheck: Append = async (stream, position) => {
    const [header] = await pool.execute<mysql.ResultSetHeader>(
      `insert into ${TABLE} (sequence_id, position, topic, data) select ?, ?, ?, ? from ${table.lockTableName} as l where l.id = 1 and (select coalesce(max(s.position), -1) from ${TABLE} as s where s.sequence_id = ? and l.id = 1) = ? for update`,
      [stream, position, 'probe.Event', data(position), stream, position - 1],
    );
    return header.affectedRows > 0;
  };
  const version: Version = async (stream) => {
    const [rows] = await pool.execute<mysql.RowDataPacket[]>(
      `select coalesce(max(position), -1) + 1 as v from ${TABLE} where sequence_id = ?`,
      [stream],
    );
    return Number(rows[0]!.v);
  };
  // The server's counters per event (SHOW GLOBAL STATUS: a shared server, so other clients' work counts).
  const STATUS = [
    'Innodb_data_fsyncs',
    'Innodb_row_lock_waits',
    'Innodb_row_lock_time',
    'Com_insert_select',
    'Com_insert',
    'Com_select',
    'Handler_write',
    'Created_tmp_tables',
  ];
  const globalStatus = async () => {
    const [rows] = await pool.query<mysql.RowDataPacket[]>(
      `show global status where variable_name in (${STATUS.map((n) => `'${n}'`).join(', ')})`,
    );
    return new Map(rows.map((r) => [String(r.Variable_name), Number(r.Value)]));
  };
  let counters = '';
  async function run(append: Append): Promise<[number, number, number, number]> {
    let conflicts = 0;
    const streams = Array.from({ length: what === 'writers' ? WRITERS : STREAMS }, () => randomUUID());
    for (const s of streams) await append(s, 0);
    const g0 = await globalStatus();
    const s0 = serverUs();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const random = mulberry32(w + 1);
        const known = new Map(streams.map((s) => [s, 1]));
        for (let i = 0; i < APPENDS;) {
          const s = what === 'writers' ? streams[w]! : streams[Math.floor(random() * STREAMS)]!;
          const v = known.get(s)!;
          if (await append(s, v)) {
            known.set(s, v + 1);
            i++;
          } else {
            conflicts++;
            known.set(s, await version(s));
          }
        }
      }),
    );
    const events = WRITERS * APPENDS;
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const g1 = await globalStatus();
    counters = [...g1].map(([k, v]) => `${k} ${((v - (g0.get(k) ?? 0)) / events).toFixed(2)}`).join(', ');
    return [events / seconds, (c.user + c.system) / events, (serverUs() - s0) / events, conflicts];
  }

  const sides: [string, Append][] = [
    ['library', library],
    ['raw', raw],
    ...(process.env.SHAPES
      ? [
          ['lock only', lockOnly] as [string, Append],
          ['previous', previousCheck] as [string, Append],
          ['max', maxCheck] as [string, Append],
        ]
      : []),
  ];
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    const line: string[] = [];
    for (const [name, append] of round % 2 ? [...sides].reverse() : sides) {
      const [perSecond, client, server, conflicts] = await run(append);
      if (process.env.COUNTERS) console.log(`  ${name} per event: ${counters}`);
      line.push(
        `${name} ${perSecond.toFixed(0)}/s client ${client.toFixed(0)} µs server ${server.toFixed(0)} µs${what === 'contention' ? ` (${conflicts} conflicts)` : ''}`,
      );
    }
    console.log(`${what} round ${round + 1}: ${line.join(' | ')}`);
  }
  await pool.end();
  await datastore.dropTables();
  await datastore.close();
}
void main();
