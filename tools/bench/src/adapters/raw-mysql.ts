import mysql from 'mysql2/promise';
import type { BenchAdapter, EventSpec, ReadBack } from '../adapter.js';
import { CHANGED_TOPIC, CREATED_TOPIC, type FoldedState, fold, rawEventData } from '../domain.js';

interface Row {
  readonly topic: string;
  readonly data: string;
}

const EVENTS = 'es_bench_raw_events';
const SNAPSHOTS = 'es_bench_raw_snapshots';

/**
 * mysql2 alone (a pool of 10, server-side prepared statements), with rows serialised before the clock
 * starts: an append is one autocommit multi-row INSERT (atomic in InnoDB; a taken position is a
 * duplicate key), a read one SELECT.
 */
export function rawMysql(url: string): BenchAdapter<Row> {
  const pool = mysql.createPool({ uri: url, connectionLimit: 10 });
  const insertSql = (n: number) =>
    `INSERT INTO ${EVENTS} (sequence_id, position, topic, data) VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?)').join(', ')}`;
  const loadFrom = async (stream: string, state: FoldedState) => {
    const [rows] = await pool.execute<mysql.RowDataPacket[]>(
      `SELECT data FROM ${EVENTS} WHERE sequence_id = ? AND position >= ? ORDER BY position`,
      [stream, state.version],
    );
    for (const row of rows) fold(state, JSON.parse(row.data as string) as { value: string });
    return state;
  };

  return {
    implementation: 'raw',
    description: `mysql2 3 (pool.execute): one autocommit multi-row INSERT per append, one SELECT per read, JSON.parse per row; the table layout of @es/sql`,
    unsupported: {},
    snapshots: true,

    async open() {
      await pool.query(`DROP TABLE IF EXISTS ${EVENTS}, ${SNAPSHOTS}`);
      // The layout @es/sql creates, so that only the statements differ.
      await pool.query(`CREATE TABLE ${EVENTS} (
        id BIGINT NOT NULL AUTO_INCREMENT,
        sequence_id VARBINARY(1020) NOT NULL,
        position BIGINT NOT NULL,
        topic VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        data LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        PRIMARY KEY (sequence_id, position),
        UNIQUE KEY (id)) ENGINE=InnoDB`);
      await pool.query(`CREATE TABLE ${SNAPSHOTS} (
        sequence_id VARBINARY(1020) NOT NULL,
        position BIGINT NOT NULL,
        topic VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        data LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        PRIMARY KEY (sequence_id, position)) ENGINE=InnoDB`);
    },
    async close() {
      await pool.end();
    },
    async serverVersion() {
      const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
      return `MariaDB ${String(rows[0]!.v)}`;
    },

    prepare(specs: readonly EventSpec[]): Row[] {
      return specs.map((s) => ({
        topic: s.created ? CREATED_TOPIC : CHANGED_TOPIC,
        data: rawEventData(s.created, s.value),
      }));
    },
    async append(stream, expectedVersion, rows) {
      const params: (string | number)[] = [];
      rows.forEach((row, i) => params.push(stream, expectedVersion + i, row.topic, row.data));
      try {
        await pool.execute(insertSql(rows.length), params);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === 'ER_DUP_ENTRY') return false;
        throw error;
      }
    },
    async streamVersion(stream) {
      const [rows] = await pool.execute<mysql.RowDataPacket[]>(
        `SELECT max(position) AS max FROM ${EVENTS} WHERE sequence_id = ?`,
        [stream],
      );
      const max = rows[0]!.max as string | number | null;
      return max === null ? 0 : Number(max) + 1;
    },
    async readStream(stream): Promise<ReadBack[]> {
      const [rows] = await pool.execute<mysql.RowDataPacket[]>(
        `SELECT position, data FROM ${EVENTS} WHERE sequence_id = ? ORDER BY position`,
        [stream],
      );
      return rows.map((row) => ({
        position: Number(row.position),
        value: (JSON.parse(row.data as string) as { value: string }).value,
      }));
    },

    async load(stream, fromSnapshot) {
      let state: FoldedState = { version: 0, value: '' };
      if (fromSnapshot) {
        const [rows] = await pool.execute<mysql.RowDataPacket[]>(
          `SELECT data FROM ${SNAPSHOTS} WHERE sequence_id = ? ORDER BY position DESC LIMIT 1`,
          [stream],
        );
        if (rows[0]) state = JSON.parse(rows[0].data as string) as FoldedState;
      }
      return (await loadFrom(stream, state)).version;
    },
    async takeSnapshot(stream) {
      const state = await loadFrom(stream, { version: 0, value: '' });
      await pool.execute(
        `INSERT IGNORE INTO ${SNAPSHOTS} (sequence_id, position, topic, data) VALUES (?, ?, ?, ?)`,
        [stream, state.version, 'bench.Snapshot', JSON.stringify(state)],
      );
    },

    async readLog(count, pageSize) {
      let read = 0;
      let next = 1;
      while (read < count) {
        // LIMIT takes no placeholder in every server version: it is a plain integer here.
        const [rows] = await pool.execute<mysql.RowDataPacket[]>(
          `SELECT id, sequence_id, position, topic, data FROM ${EVENTS} WHERE id >= ? ORDER BY id LIMIT ${Math.floor(pageSize)}`,
          [next],
        );
        for (const row of rows) {
          JSON.parse(row.data as string);
          if (++read >= count) break;
        }
        if (rows.length < pageSize) break;
        next = Number(rows[rows.length - 1]!.id) + 1;
      }
      return read;
    },
  };
}
