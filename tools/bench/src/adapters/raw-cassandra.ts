import { cassandraContact } from '@es/servers';
import { Client, types } from 'cassandra-driver';
import type { BenchAdapter, EventSpec, ReadBack } from '../adapter.js';
import { CHANGED_TOPIC, CREATED_TOPIC, type FoldedState, fold, rawEventData } from '../domain.js';

interface Row {
  readonly topic: string;
  readonly data: string;
}

const KEYSPACE = 'es_bench_raw';
const ITEMS = `${KEYSPACE}.integer_sequenced_items`;
const INDEX = `${KEYSPACE}.integer_sequenced_items_buckets`;
const SNAPSHOTS = `${KEYSPACE}.snapshots`;

/**
 * cassandra-driver alone, issuing the statements @es/cassandra issues, so that the comparison is of the
 * library's overhead and not of the consistency model: a new stream is the bucket index upsert, then
 * one logged conditional batch `INSERT ... (head) IF NOT EXISTS` + the rows; a later append is one
 * conditional batch `UPDATE ... SET head IF head = expected` + the rows (LOCAL_QUORUM, serial
 * LOCAL_SERIAL, prepared). Every stream here fits its first bucket (10,000 positions), so the raw
 * driver skips the bucket walk the library does on reads.
 */
export function rawCassandra(url: string): BenchAdapter<Row> {
  const client = new Client({
    ...cassandraContact(url),
    socketOptions: { readTimeout: 12_000 },
  });
  const write = {
    prepare: true,
    consistency: types.consistencies.localQuorum,
    serialConsistency: types.consistencies.localSerial,
  };
  const read = { prepare: true, consistency: types.consistencies.localQuorum };

  const rowsOf = async function* (cql: string, params: unknown[]): AsyncGenerator<types.Row> {
    let pageState: string | undefined;
    do {
      const result = await client.execute(cql, params, {
        ...read,
        fetchSize: 1000,
        ...(pageState ? { pageState } : {}),
      });
      yield* result.rows;
      pageState = result.pageState ?? undefined;
    } while (pageState !== undefined);
  };
  const loadFrom = async (stream: string, state: FoldedState) => {
    const cql = `SELECT position, data FROM ${ITEMS} WHERE sequence_id = ? AND bucket = 0 AND position >= ?`;
    for await (const row of rowsOf(cql, [stream, state.version]))
      fold(state, JSON.parse(row.get('data') as string) as { value: string });
    return state;
  };

  return {
    implementation: 'raw',
    description:
      'cassandra-driver 4 with the statements @es/cassandra issues: bucket index upsert + conditional batch (INSERT head IF NOT EXISTS + rows) ' +
      'for a new stream, conditional batch (UPDATE head IF head = ? + rows) after; LOCAL_QUORUM / LOCAL_SERIAL, prepared, pages of 1,000',
    unsupported: { log: 'no notification log in the Cassandra layout (nor in @es/cassandra)' },
    snapshots: true,

    async open() {
      await client.connect();
      await client.execute(
        `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      );
      for (const table of [ITEMS, INDEX, SNAPSHOTS]) await client.execute(`DROP TABLE IF EXISTS ${table}`);
      await client.execute(`CREATE TABLE ${ITEMS} (
        sequence_id text, bucket bigint, position bigint, topic text, data text, commit_id uuid,
        head bigint static, last_commit uuid static,
        PRIMARY KEY ((sequence_id, bucket), position)) WITH CLUSTERING ORDER BY (position ASC)`);
      await client.execute(
        `CREATE TABLE ${INDEX} (sequence_id text, bucket bigint, PRIMARY KEY (sequence_id, bucket))`,
      );
      await client.execute(`CREATE TABLE ${SNAPSHOTS} (
        sequence_id text, bucket bigint, position bigint, topic text, data text, commit_id uuid,
        PRIMARY KEY ((sequence_id, bucket), position)) WITH CLUSTERING ORDER BY (position DESC)`);
    },
    async close() {
      await client.shutdown();
    },
    async serverVersion() {
      const result = await client.execute('SELECT release_version FROM system.local');
      return `Cassandra ${String(result.first()?.get('release_version'))}`;
    },

    prepare(specs: readonly EventSpec[]): Row[] {
      return specs.map((s) => ({
        topic: s.created ? CREATED_TOPIC : CHANGED_TOPIC,
        data: rawEventData(s.created, s.value),
      }));
    },
    async append(stream, expectedVersion, rows) {
      const commit = types.Uuid.random();
      const last = expectedVersion + rows.length - 1;
      const inserts = rows.map((row, i) => ({
        query: `INSERT INTO ${ITEMS} (sequence_id, bucket, position, topic, data, commit_id) VALUES (?, ?, ?, ?, ?, ?)`,
        params: [stream, 0, expectedVersion + i, row.topic, row.data, commit],
      }));
      let condition;
      if (expectedVersion === 0) {
        await client.execute(`INSERT INTO ${INDEX} (sequence_id, bucket) VALUES (?, ?)`, [stream, 0], write);
        condition = {
          query: `INSERT INTO ${ITEMS} (sequence_id, bucket, head, last_commit) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
          params: [stream, 0, last, commit],
        };
      } else {
        condition = {
          query: `UPDATE ${ITEMS} SET head = ?, last_commit = ? WHERE sequence_id = ? AND bucket = ? IF head = ?`,
          params: [last, commit, stream, 0, expectedVersion - 1],
        };
      }
      const result = await client.batch([condition, ...inserts], { ...write, logged: true });
      return result.wasApplied();
    },
    async streamVersion(stream) {
      const result = await client.execute(
        `SELECT head FROM ${ITEMS} WHERE sequence_id = ? AND bucket = 0 LIMIT 1`,
        [stream],
        read,
      );
      const head = result.first()?.get('head') as types.Long | null | undefined;
      return head == null ? 0 : head.toNumber() + 1;
    },
    async readStream(stream): Promise<ReadBack[]> {
      const out: ReadBack[] = [];
      for await (const row of rowsOf(
        `SELECT position, data FROM ${ITEMS} WHERE sequence_id = ? AND bucket = 0`,
        [stream],
      )) {
        out.push({
          position: (row.get('position') as types.Long).toNumber(),
          value: (JSON.parse(row.get('data') as string) as { value: string }).value,
        });
      }
      return out;
    },

    async load(stream, fromSnapshot) {
      let state: FoldedState = { version: 0, value: '' };
      if (fromSnapshot) {
        const result = await client.execute(
          `SELECT data FROM ${SNAPSHOTS} WHERE sequence_id = ? AND bucket = 0 LIMIT 1`,
          [stream],
          read,
        );
        const data = result.first()?.get('data') as string | undefined;
        if (data) state = JSON.parse(data) as FoldedState;
      }
      return (await loadFrom(stream, state)).version;
    },
    async takeSnapshot(stream) {
      const state = await loadFrom(stream, { version: 0, value: '' });
      await client.batch(
        [
          {
            query: `INSERT INTO ${SNAPSHOTS} (sequence_id, bucket, position, topic, data, commit_id) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
            params: [stream, 0, state.version, 'bench.Snapshot', JSON.stringify(state), types.Uuid.random()],
          },
        ],
        { ...write, logged: true },
      );
    },

    readLog() {
      return Promise.reject(new Error('no notification log'));
    },
  };
}
