/**
 * CPU µs per append on a SQLite file (WAL, synchronous=FULL), layer by layer, to see where the library's
 * time goes beyond better-sqlite3's. Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && npx tsx probes/sqlite-appends.ts [size] [variants] [n]   (ROUNDS=5, MEMORY=1)
 *
 * size: events per append (1 or 100). variants (comma-separated, interleaved round by round):
 * - raw: the bench's raw baseline (one INSERT alone, or N INSERTs in one transaction), no check.
 * - folded: the library's statement alone: INSERT ... SELECT FROM (VALUES ...) WHERE head = ?.
 * - txcheck: BEGIN IMMEDIATE, a head read, N plain INSERTs, COMMIT (better-sqlite3's transaction).
 * - firstrow: one transaction of N prepared single-row INSERTs, the check folded into the first only.
 * - prevrow: as firstrow for N > 1; alone, one statement whose check is that position - 1 exists
 *   (an index point lookup, not max()) and the unique key refuses a taken position.
 * - conn: SqliteConnection.insertItems through datastore.use (no group committer).
 * - grouped: the same through the group committer (appendGrouped).
 * - strategy: SqlActiveRecordStrategy.append of ready items (validation, group committer, signal).
 * - store: the bench's library adapter (EventStore.append: events built, mapped, validated, written).
 * Figures are medians of the rounds.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SequencedItem } from '@es/core';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';
import Database from 'better-sqlite3';
// Not exported by @es/sql: the probe measures the group committer's share of an append.
import { appendGrouped } from '../../../packages/sql/src/group-commit.js';
import { librarySql } from '../src/adapters/library-sql.js';
import { CHANGED_TOPIC, CREATED_TOPIC, rawEventData } from '../src/domain.js';

const size = Number(process.argv[2] ?? 1);
const variants = (process.argv[3] ?? 'raw,folded,txcheck,firstrow,prevrow,conn,grouped,strategy,store').split(
  ',',
);
const n = Number(process.argv[4] ?? (size === 1 ? 2000 : 200));
const rounds = Number(process.env.ROUNDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'es-sqlite-appends-'));
const file = (name: string) => (process.env.MEMORY ? ':memory:' : join(dir, `${name}.sqlite`));

const TABLE = 'es_probe_events';
function open(name: string): Database.Database {
  const db = new Database(file(name));
  if (!process.env.MEMORY) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE ${TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sequence_id TEXT NOT NULL, position BIGINT NOT NULL,
    topic TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (sequence_id, position))`);
  return db;
}

const items = (sequenceId: string): SequencedItem[] =>
  Array.from({ length: size }, (_, i) => ({
    sequenceId,
    position: i,
    topic: i === 0 ? CREATED_TOPIC : CHANGED_TOPIC,
    data: rawEventData(i === 0, `v${i}:${randomUUID()}`),
  }));

type Append = (items: readonly SequencedItem[]) => unknown;

const head = (seq: string) => `(select coalesce(max(position), -1) from ${TABLE} where sequence_id = ${seq})`;

function raw(): Append {
  const db = open('raw');
  const insert = db.prepare(`insert into ${TABLE} (sequence_id, position, topic, data) values (?, ?, ?, ?)`);
  const many = db.transaction((xs: readonly SequencedItem[]) => {
    for (const x of xs) insert.run(x.sequenceId, x.position, x.topic, x.data);
  });
  return (xs) => (xs.length === 1 ? insert.run(xs[0]!.sequenceId, 0, xs[0]!.topic, xs[0]!.data) : many(xs));
}

function folded(): Append {
  const db = open('folded');
  const values = Array.from({ length: size }, () => '(?, ?, ?)').join(', ');
  const statement = db.prepare(
    `insert into ${TABLE} (sequence_id, position, topic, data) select ?, column1, column2, column3 from (values ${values}) where ${head('?')} = ?`,
  );
  return (xs) => {
    const params: unknown[] = [xs[0]!.sequenceId];
    for (const x of xs) params.push(x.position, x.topic, x.data);
    params.push(xs[0]!.sequenceId, xs[0]!.position - 1);
    if (statement.run(params).changes === 0) throw new Error('conflict');
  };
}

function txcheck(): Append {
  const db = open('txcheck');
  const max = db.prepare(`select ${head('?')}`).pluck();
  const insert = db.prepare(`insert into ${TABLE} (sequence_id, position, topic, data) values (?, ?, ?, ?)`);
  const tx = db.transaction((xs: readonly SequencedItem[]) => {
    if (max.get(xs[0]!.sequenceId) !== xs[0]!.position - 1) throw new Error('conflict');
    for (const x of xs) insert.run(x.sequenceId, x.position, x.topic, x.data);
  });
  return (xs) => tx.immediate(xs);
}

function firstRowChecked(
  db: Database.Database,
  check: string,
  checkParams: (x: SequencedItem) => unknown[],
): Append {
  const first = db.prepare(
    `insert into ${TABLE} (sequence_id, position, topic, data) select ?, ?, ?, ? where ${check}`,
  );
  const insert = db.prepare(`insert into ${TABLE} (sequence_id, position, topic, data) values (?, ?, ?, ?)`);
  const tx = db.transaction((xs: readonly SequencedItem[]) => {
    const x0 = xs[0]!;
    if (first.run(x0.sequenceId, x0.position, x0.topic, x0.data, ...checkParams(x0)).changes === 0)
      throw new Error('conflict');
    for (let i = 1; i < xs.length; i++)
      insert.run(xs[i]!.sequenceId, xs[i]!.position, xs[i]!.topic, xs[i]!.data);
  });
  return (xs) => (xs.length === 1 ? tx(xs) : tx.immediate(xs));
}

function firstrow(): Append {
  return firstRowChecked(open('firstrow'), `${head('?')} = ? - 1`, (x) => [x.sequenceId, x.position]);
}

function prevrow(): Append {
  // On a sequence contiguous from 0, "position - 1 is stored (or position is 0)" and "position is not
  // taken" (the unique key) together say position = head + 1.
  return firstRowChecked(
    open('prevrow'),
    `? = 0 or exists (select 1 from ${TABLE} where sequence_id = ? and position = ? - 1)`,
    (x) => [x.position, x.sequenceId, x.position],
  );
}

async function library(
  kind: 'conn' | 'grouped' | 'strategy',
): Promise<(xs: readonly SequencedItem[]) => Promise<unknown>> {
  const table = SqlIntegerSequencedItem.withTableName(TABLE);
  const url = process.env.MEMORY ? 'sqlite::memory:' : `sqlite:${file(kind)}`;
  const datastore = new SqlDatastore({ settings: new SqlSettings({ url }), tables: [table] });
  await datastore.setupConnection();
  await datastore.setupTables();
  if (kind === 'conn') return (xs) => datastore.use((connection) => connection.insertItems(table, xs));
  if (kind === 'grouped') return (xs) => datastore.use((connection) => appendGrouped(connection, table, xs));
  const strategy = new SqlActiveRecordStrategy({ datastore, table });
  return (xs) => strategy.append(xs);
}

async function store(): Promise<(xs: readonly SequencedItem[]) => Promise<unknown>> {
  const url = process.env.MEMORY ? 'sqlite::memory:' : `sqlite:${file('store')}`;
  const adapter = librarySql(url, 'select sqlite_version() as v', 'SQLite');
  await adapter.open();
  const specs = Array.from({ length: size }, (_, i) => ({
    created: i === 0,
    value: `v${i}:${randomUUID()}`,
  }));
  return async (xs) => {
    if (!(await adapter.append(xs[0]!.sequenceId, 0, specs))) throw new Error('conflict');
  };
}

const appends: Record<string, (xs: readonly SequencedItem[]) => unknown> = {};
for (const v of variants) {
  if (v === 'raw') appends[v] = raw();
  else if (v === 'folded') appends[v] = folded();
  else if (v === 'txcheck') appends[v] = txcheck();
  else if (v === 'firstrow') appends[v] = firstrow();
  else if (v === 'prevrow') appends[v] = prevrow();
  else if (v === 'conn' || v === 'grouped' || v === 'strategy') appends[v] = await library(v);
  else if (v === 'store') appends[v] = await store();
  else throw new Error(`unknown variant ${v}`);
}

const results: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
const users: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
for (let round = 0; round < rounds; round++) {
  // The order rotates each round, so that no variant always runs after the same one.
  for (const v of [
    ...variants.slice(round % variants.length),
    ...variants.slice(0, round % variants.length),
  ]) {
    const append = appends[v]!;
    const batches = Array.from({ length: n }, () => items(randomUUID()));
    let cpu = 0;
    let user = 0;
    for (const batch of batches) {
      const c0 = process.cpuUsage();
      await append(batch);
      const c = process.cpuUsage(c0);
      cpu += c.user + c.system;
      user += c.user;
    }
    results[v]!.push(cpu / n);
    users[v]!.push(user / n);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const v of variants) {
  const r = results[v]!;
  console.log(
    `${v.padEnd(9)} size ${size}: median ${median(r).toFixed(1)} cpu us/append (${(median(r) / size).toFixed(2)}/event; user ${median(users[v]!).toFixed(1)})  rounds ${r.map((x) => x.toFixed(1)).join(' ')}`,
  );
}
