import pg from 'pg';
import type { BenchAdapter, EventSpec, ReadBack } from '../adapter.js';
import { CHANGED_TOPIC, CREATED_TOPIC, type FoldedState, fold, rawEventData } from '../domain.js';

interface Row {
  readonly topic: string;
  readonly data: string;
}

const EVENTS = 'es_bench_raw_events';
const SNAPSHOTS = 'es_bench_raw_snapshots';

/**
 * The `pg` driver alone, with rows serialised before the clock starts: an append is one autocommit
 * multi-row INSERT (atomic; a taken (sequence_id, position) is a unique violation), a read one SELECT.
 */
export function rawPostgres(url: string): BenchAdapter<Row> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // Not pool.query: on a failed query (a conflict) it destroys the connection, and reconnecting costs
  // ~40 ms here. A checked-out client released without an error stays in the pool.
  const query = async <R extends pg.QueryResultRow>(text: string, params: unknown[] = []) => {
    const client = await pool.connect();
    try {
      return await client.query<R>(text, params);
    } finally {
      client.release();
    }
  };
  const insertSql = (n: number) =>
    `INSERT INTO ${EVENTS} (sequence_id, position, topic, data) VALUES ${Array.from({ length: n }, (_, i) => `($${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4})`).join(', ')}`;
  const foldRows = (state: FoldedState, rows: { data: string }[]) => {
    for (const row of rows) fold(state, JSON.parse(row.data) as { value: string });
    return state;
  };
  const loadFrom = async (stream: string, state: FoldedState) => {
    const { rows } = await query<{ data: string }>(
      `SELECT data FROM ${EVENTS} WHERE sequence_id = $1 AND position >= $2 ORDER BY position`,
      [stream, state.version],
    );
    return foldRows(state, rows);
  };

  return {
    implementation: 'raw',
    description: `pg 8: one autocommit multi-row INSERT per append, one SELECT per read, JSON.parse per row; the table layout of @es/sql`,
    unsupported: {},
    snapshots: true,

    async open() {
      await query(`DROP TABLE IF EXISTS ${EVENTS}, ${SNAPSHOTS}`);
      // The layout @es/sql creates, so that only the statements differ.
      await query(`CREATE TABLE ${EVENTS} (
        id bigint NOT NULL GENERATED ALWAYS AS IDENTITY UNIQUE,
        sequence_id text COLLATE "C" NOT NULL,
        position bigint NOT NULL,
        topic text NOT NULL,
        data text NOT NULL,
        PRIMARY KEY (sequence_id, position))`);
      await query(`CREATE TABLE ${SNAPSHOTS} (
        sequence_id text COLLATE "C" NOT NULL,
        position bigint NOT NULL,
        topic text NOT NULL,
        data text NOT NULL,
        PRIMARY KEY (sequence_id, position))`);
    },
    async close() {
      await pool.end();
    },
    async serverVersion() {
      const { rows } = await query<{ server_version: string }>('SHOW server_version');
      return `PostgreSQL ${rows[0]!.server_version}`;
    },

    prepare(specs: readonly EventSpec[]): Row[] {
      return specs.map((s) => ({
        topic: s.created ? CREATED_TOPIC : CHANGED_TOPIC,
        data: rawEventData(s.created, s.value),
      }));
    },
    async append(stream, expectedVersion, rows) {
      const params: unknown[] = [];
      rows.forEach((row, i) => params.push(stream, expectedVersion + i, row.topic, row.data));
      try {
        await query(insertSql(rows.length), params);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === '23505') return false;
        throw error;
      }
    },
    async streamVersion(stream) {
      const { rows } = await query<{ max: string | null }>(
        `SELECT max(position) FROM ${EVENTS} WHERE sequence_id = $1`,
        [stream],
      );
      return rows[0]!.max === null ? 0 : Number(rows[0]!.max) + 1;
    },
    async readStream(stream): Promise<ReadBack[]> {
      const { rows } = await query<{ position: string; data: string }>(
        `SELECT position, data FROM ${EVENTS} WHERE sequence_id = $1 ORDER BY position`,
        [stream],
      );
      return rows.map((row) => ({
        position: Number(row.position),
        value: (JSON.parse(row.data) as { value: string }).value,
      }));
    },

    async load(stream, fromSnapshot) {
      let state: FoldedState = { version: 0, value: '' };
      if (fromSnapshot) {
        const { rows } = await query<{ data: string }>(
          `SELECT data FROM ${SNAPSHOTS} WHERE sequence_id = $1 ORDER BY position DESC LIMIT 1`,
          [stream],
        );
        if (rows[0]) state = JSON.parse(rows[0].data) as FoldedState;
      }
      return (await loadFrom(stream, state)).version;
    },
    async takeSnapshot(stream) {
      const state = await loadFrom(stream, { version: 0, value: '' });
      await query(
        `INSERT INTO ${SNAPSHOTS} (sequence_id, position, topic, data) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [stream, state.version, 'bench.Snapshot', JSON.stringify(state)],
      );
    },

    async readLog(count, pageSize) {
      let read = 0;
      let next = 1;
      while (read < count) {
        const { rows } = await query<{
          id: string;
          sequence_id: string;
          position: string;
          topic: string;
          data: string;
        }>(
          `SELECT id, sequence_id, position, topic, data FROM ${EVENTS} WHERE id >= $1 ORDER BY id LIMIT $2`,
          [next, pageSize],
        );
        for (const row of rows) {
          JSON.parse(row.data);
          if (++read >= count) break;
        }
        if (rows.length < pageSize) break;
        next = Number(rows[rows.length - 1]!.id) + 1;
      }
      return read;
    },
  };
}
