import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BenchAdapter, EventSpec, ReadBack } from '../adapter.js';
import { CHANGED_TOPIC, CREATED_TOPIC, type FoldedState, fold, rawEventData } from '../domain.js';

interface Row {
  readonly topic: string;
  readonly data: string;
}

/**
 * better-sqlite3 alone on a file (WAL, synchronous=FULL), with rows serialised before the clock starts
 * and prepared statements: an append is the rows' INSERTs in one transaction (one INSERT alone for a
 * single event), a read one SELECT.
 */
export function rawSqlite(dir: string): BenchAdapter<Row> {
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // The layout @es/sql creates, so that only the statements differ.
  db.exec('DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS snapshots');
  db.exec(`CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sequence_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    topic TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (sequence_id, position))`);
  db.exec(`CREATE TABLE snapshots (
    sequence_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    topic TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (sequence_id, position))`);
  const insert = db.prepare('INSERT INTO events (sequence_id, position, topic, data) VALUES (?, ?, ?, ?)');
  const insertMany = db.transaction((stream: string, first: number, rows: readonly Row[]) => {
    for (let i = 0; i < rows.length; i++) insert.run(stream, first + i, rows[i]!.topic, rows[i]!.data);
  });
  const selectFrom = db.prepare<[string, number], { data: string }>(
    'SELECT data FROM events WHERE sequence_id = ? AND position >= ? ORDER BY position',
  );
  const selectAll = db.prepare<[string], { position: number; data: string }>(
    'SELECT position, data FROM events WHERE sequence_id = ? ORDER BY position',
  );
  const selectMax = db.prepare<[string], { max: number | null }>(
    'SELECT max(position) AS max FROM events WHERE sequence_id = ?',
  );
  const selectLog = db.prepare<
    [number, number],
    { id: number; sequence_id: string; position: number; topic: string; data: string }
  >('SELECT id, sequence_id, position, topic, data FROM events WHERE id >= ? ORDER BY id LIMIT ?');
  const selectSnapshot = db.prepare<[string], { data: string }>(
    'SELECT data FROM snapshots WHERE sequence_id = ? ORDER BY position DESC LIMIT 1',
  );
  const insertSnapshot = db.prepare(
    'INSERT OR IGNORE INTO snapshots (sequence_id, position, topic, data) VALUES (?, ?, ?, ?)',
  );
  const loadFrom = (stream: string, state: FoldedState) => {
    for (const row of selectFrom.all(stream, state.version))
      fold(state, JSON.parse(row.data) as { value: string });
    return state;
  };

  return {
    implementation: 'raw',
    description:
      'better-sqlite3 12 (WAL, synchronous=FULL), prepared statements, the table layout of @es/sql: one INSERT per event in one transaction per append, one SELECT per read, JSON.parse per row',
    unsupported: {},
    snapshots: true,
    async open() {},
    async close() {
      db.close();
    },
    async serverVersion() {
      return `SQLite ${(db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v}`;
    },

    prepare(specs: readonly EventSpec[]): Row[] {
      return specs.map((s) => ({
        topic: s.created ? CREATED_TOPIC : CHANGED_TOPIC,
        data: rawEventData(s.created, s.value),
      }));
    },
    async append(stream, expectedVersion, rows) {
      try {
        if (rows.length === 1) insert.run(stream, expectedVersion, rows[0]!.topic, rows[0]!.data);
        else insertMany(stream, expectedVersion, rows);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
        throw error;
      }
    },
    async streamVersion(stream) {
      const max = selectMax.get(stream)?.max;
      return max === null || max === undefined ? 0 : max + 1;
    },
    async readStream(stream): Promise<ReadBack[]> {
      return selectAll
        .all(stream)
        .map((row) => ({ position: row.position, value: (JSON.parse(row.data) as { value: string }).value }));
    },

    async load(stream, fromSnapshot) {
      const snapshot = fromSnapshot ? selectSnapshot.get(stream) : undefined;
      const state: FoldedState = snapshot
        ? (JSON.parse(snapshot.data) as FoldedState)
        : { version: 0, value: '' };
      return loadFrom(stream, state).version;
    },
    async takeSnapshot(stream) {
      const state = loadFrom(stream, { version: 0, value: '' });
      insertSnapshot.run(stream, state.version, 'bench.Snapshot', JSON.stringify(state));
    },

    async readLog(count, pageSize) {
      let read = 0;
      let next = 1;
      while (read < count) {
        const rows = selectLog.all(next, pageSize);
        for (const row of rows) {
          JSON.parse(row.data);
          if (++read >= count) break;
        }
        if (rows.length < pageSize) break;
        next = rows[rows.length - 1]!.id + 1;
      }
      return read;
    },
  };
}
