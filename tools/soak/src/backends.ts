import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  FeedSequencer,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '@es/cassandra';
import {
  type AggregateRecorder,
  type ApplicationRecorder,
  InMemoryActiveRecordStrategy,
  type SequencedItem,
} from '@es/core';
import { serverUrl } from '@es/servers';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';
import Database from 'better-sqlite3';
import { createPool } from 'mysql2';
import pg from 'pg';

export const BACKEND_NAMES = ['memory', 'sqlite', 'postgres', 'mysql', 'cassandra'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * A backend opened for a soak: the store the workers use (which a fault may replace), a fresh store
 * for the final check, and the faults this backend can suffer. Everything it creates (a table, a
 * keyspace's table, a file) it removes in `close`.
 */
export interface SoakBackend {
  readonly name: BackendName;
  /** The store to use now: a fault may swap it (Cassandra's session is shut down and made again). */
  store(): AggregateRecorder;
  /** The log, for the followers; undefined when the store keeps none. */
  log(): ApplicationRecorder | undefined;
  /**
   * Before the final check, with the workers stopped: makes the log hold every acknowledged append
   * (Cassandra's feed: one sequencer pass, which copies every append acknowledged before it began).
   */
  settle?(): Promise<void>;
  /** The faults, by name: each is injected once per call, and resolves when injected. */
  readonly faults: Readonly<Record<string, () => Promise<void>>>;
  close(): Promise<void>;
}

const suffix = () => randomBytes(4).toString('hex');

export async function openBackend(name: BackendName): Promise<SoakBackend> {
  switch (name) {
    case 'memory':
      return memory();
    case 'sqlite':
      return sqlite();
    case 'postgres':
      return postgres();
    case 'mysql':
      return mysql();
    case 'cassandra':
      return cassandra();
  }
}

function memory(): SoakBackend {
  const store = new InMemoryActiveRecordStrategy();
  // Nothing outside the process can fail: the reference backend runs without faults.
  return { name: 'memory', store: () => store, log: () => store, faults: {}, close: async () => {} };
}

async function sqlite(): Promise<SoakBackend> {
  const directory = mkdtempSync(join(tmpdir(), 'es-soak-'));
  const filename = join(directory, 'soak.db');
  const table = SqlIntegerSequencedItem.withTableName(`soak_${suffix()}`);
  // A short lock timeout, so that another connection holding the write lock makes appends give up.
  const datastore = await SqlDatastore.open({
    settings: new SqlSettings({ url: `sqlite:${filename}`, lockTimeoutMs: 50 }),
    tables: [table],
  });
  const store = new SqlActiveRecordStrategy({ datastore, table });
  const other = new Database(filename, { timeout: 5000 });
  return {
    name: 'sqlite',
    store: () => store,
    log: () => store,
    faults: {
      // Another process's connection holds the database's write lock for a while.
      'write lock held by another connection': async () => {
        other.exec('BEGIN IMMEDIATE');
        await new Promise((resolve) => setTimeout(resolve, 150));
        other.exec('COMMIT');
      },
    },
    close: async () => {
      other.close();
      await datastore.dropTables().catch(() => {});
      await datastore.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * The datastore over a pool of the soak's own, so that faults hit only its sessions (other test runs
 * share these servers): the pool reports each session's server id as it connects.
 */
async function postgres(): Promise<SoakBackend> {
  const settings = new SqlSettings({
    url: serverUrl('postgres'),
    requestTimeoutMs: 5000,
    lockTimeoutMs: 5000,
  });
  const pool = new pg.Pool({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    max: 6,
    application_name: `es-soak-${process.pid}`,
  });
  pool.on('error', () => {});
  const sessions = new Set<number>();
  pool.on('connect', (client) => {
    client.on('error', () => {});
    const pid = (client as unknown as { processID?: number }).processID;
    if (pid) sessions.add(pid);
  });
  pool.on('remove', (client) =>
    sessions.delete((client as unknown as { processID?: number }).processID ?? -1),
  );
  const admin = new pg.Client({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
  });
  await admin.connect();
  const table = SqlIntegerSequencedItem.withTableName(`soak_${suffix()}`);
  const datastore = await SqlDatastore.open({
    client: { dialect: 'postgres', pool },
    settings,
    tables: [table],
  });
  const store = new SqlActiveRecordStrategy({ datastore, table });
  const pick = (): number[] => [...sessions].sort(() => Math.random() - 0.5).slice(0, 2);
  return {
    name: 'postgres',
    store: () => store,
    log: () => store,
    faults: {
      'pg_terminate_backend of own sessions': async () => {
        for (const pid of pick()) await admin.query('select pg_terminate_backend($1)', [pid]);
      },
      'pg_cancel_backend of own sessions': async () => {
        for (const pid of pick()) await admin.query('select pg_cancel_backend($1)', [pid]);
      },
    },
    close: async () => {
      await datastore.dropTables().catch(() => {});
      await datastore.close();
      await pool.end();
      await admin.end();
    },
  };
}

async function mysql(): Promise<SoakBackend> {
  const settings = new SqlSettings({ url: serverUrl('mysql'), requestTimeoutMs: 5000, lockTimeoutMs: 5000 });
  const config = {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
  };
  const pool = createPool({ ...config, connectionLimit: 6, charset: 'utf8mb4' });
  const sessions = new Set<number>();
  pool.on('connection', (connection) => {
    sessions.add(connection.threadId);
    connection.on('error', () => {});
  });
  const admin = createPool({ ...config, connectionLimit: 1 });
  const kill = (statement: string) => new Promise<void>((resolve) => admin.query(statement, () => resolve())); // an id already gone: ignored
  const table = SqlIntegerSequencedItem.withTableName(`soak_${suffix()}`);
  const datastore = await SqlDatastore.open({
    client: { dialect: 'mysql', pool },
    settings,
    tables: [table],
  });
  const store = new SqlActiveRecordStrategy({ datastore, table });
  const pick = (): number[] => [...sessions].sort(() => Math.random() - 0.5).slice(0, 2);
  return {
    name: 'mysql',
    store: () => store,
    log: () => store,
    faults: {
      'KILL of own connections': async () => {
        for (const id of pick()) {
          sessions.delete(id);
          await kill(`KILL ${id}`);
        }
      },
      'KILL QUERY of own connections': async () => {
        for (const id of pick()) await kill(`KILL QUERY ${id}`);
      },
    },
    close: async () => {
      await datastore.dropTables().catch(() => {});
      await datastore.close();
      await new Promise((resolve) => pool.end(resolve));
      await new Promise((resolve) => admin.end(resolve));
    },
  };
}

/**
 * Cassandra on the shared node `main`, in a table of the soak's own with a feed (in keyspace `es_soak`),
 * followed through the feed's log while a FeedSequencer in this process copies appends into it. Its
 * fault: the client session is shut down under the workers and a new one made (the node itself is never
 * touched: others use it); the sequencer goes with its session, and a new one on the new session takes
 * the lease over (after the old lease's TTL, or at once when the old one released it).
 */
async function cassandra(): Promise<SoakBackend> {
  const url = new URL(serverUrl('cassandra').replace(/^cassandra:/, 'http:'));
  url.pathname = '/es_soak';
  const settings = new CassandraSettings({ url: url.toString().replace(/^http:/, 'cassandra:') });
  const table = CqlIntegerSequencedItem.withTableName(`soak_${suffix()}`).withFeed();
  const connect = async (): Promise<{
    datastore: CassandraDatastore;
    store: CassandraActiveRecordStrategy<SequencedItem, 'integer', true>;
    sequencer: FeedSequencer;
  }> => {
    const datastore = new CassandraDatastore({ settings, tables: [table] });
    await datastore.setupConnection();
    // A short lease, so that the sequencer made after a fault leads again within the soak's seconds.
    const sequencer = new FeedSequencer({ table, datastore, leaseSeconds: 2, pollIntervalMs: 20 });
    return { datastore, store: new CassandraActiveRecordStrategy({ datastore, table }), sequencer };
  };
  let current = await connect();
  await current.datastore.setupTables();
  current.sequencer.start();
  const retired: CassandraDatastore[] = [];
  return {
    name: 'cassandra',
    store: () => current.store,
    log: () => current.store,
    settle: async () => {
      await current.sequencer.runOnce();
    },
    faults: {
      'client session shut down and made again': async () => {
        const old = current;
        current = await connect();
        current.sequencer.start();
        retired.push(old.datastore);
        await old.sequencer.stop();
        await old.datastore.close();
      },
    },
    close: async () => {
      await current.sequencer.stop().catch(() => {});
      await current.datastore.dropTables?.().catch(() => {});
      await current.datastore.close();
      for (const d of retired) await d.close().catch(() => {});
    },
  };
}
