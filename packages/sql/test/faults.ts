import Database from 'better-sqlite3';
import { createPool } from 'mysql2';
import pg from 'pg';
import type {
  MysqlPool,
  PostgresPool,
  PostgresPoolClient,
  SqlClient,
  SqlDialectName,
  SqliteDatabase,
  SqliteStatement,
} from '../src/index.js';
import type { TestDialect } from './dialects.js';

/**
 * Fault injection at the driver boundary, through SqlDatastore's `client` option (as the Cassandra
 * tests wrap the driver's client): a pool or database of the test's own, wrapped so that chosen
 * statements fail the way networks and servers fail.
 *
 *     const own = userClient(dialect);
 *     const faulty = faultyClient(own.client);
 *     const datastore = new SqlDatastore({ client: faulty.client, tables });
 *     faulty.inject(/^insert/, faults(dialect.name).appliedThenLost);
 *     await expect(strategy.append(item)).rejects.toBeInstanceOf(OutcomeUnknownError);
 *     ...
 *     await datastore.close(); // leaves the pool open: its owner ends it
 *     await own.end();
 */

/**
 * What happens to one statement: `send` runs it for real. SQLite runs statements synchronously, so a
 * fault for SQLite must answer synchronously too (throw, or return what `send()` returned).
 */
export type Fault = (send: () => unknown) => unknown;

/** A pool (or database) made with the driver from the dialect's settings, as a user makes one. */
export function userClient(
  dialect: TestDialect,
  options: { poolSize?: number; queryTimeoutMs?: number } = {},
): { client: SqlClient; end(): Promise<void> } {
  const s = dialect.settings();
  const poolSize = options.poolSize ?? 2;
  switch (s.dialect) {
    case 'postgres': {
      const pool = new pg.Pool({
        host: s.host,
        port: s.port,
        user: s.user,
        password: s.password,
        database: s.database,
        max: poolSize,
        ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
      });
      pool.on('error', () => {}); // the owner's job: a dropped idle connection must not crash the run
      return { client: { dialect: 'postgres', pool }, end: () => pool.end() };
    }
    case 'mysql': {
      const pool = createPool({
        host: s.host,
        port: s.port,
        user: s.user,
        password: s.password,
        database: s.database,
        connectionLimit: poolSize,
      });
      return {
        client: { dialect: 'mysql', pool },
        end: () => new Promise<void>((resolve, reject) => pool.end((e) => (e ? reject(e) : resolve()))),
      };
    }
    case 'sqlite': {
      const database = new Database(s.filename!, { timeout: 1000 });
      database.pragma('journal_mode = WAL');
      return { client: { dialect: 'sqlite', database }, end: async () => void database.close() };
    }
  }
}

/** The errors the drivers raise, by dialect, and the faults made of them. */
export function faults(dialect: SqlDialectName) {
  const lostError = (): Error =>
    dialect === 'mysql'
      ? Object.assign(new Error('Connection lost: The server closed the connection.'), {
          code: 'PROTOCOL_CONNECTION_LOST',
          fatal: true,
        })
      : new Error('Connection terminated unexpectedly');
  const timeoutError = (): Error =>
    dialect === 'mysql'
      ? Object.assign(new Error('Query inactivity timeout'), {
          code: 'PROTOCOL_SEQUENCE_TIMEOUT',
          fatal: true,
        })
      : new Error('Query read timeout');
  const refusedError = (): Error =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  return {
    /** The server applies the statement; the connection drops before the answer arrives. */
    appliedThenLost: (async (send) => {
      await send();
      throw lostError();
    }) satisfies Fault,
    /** The connection drops before the statement leaves: nothing reaches the server. */
    lostBeforeSent: (async () => {
      throw lostError();
    }) satisfies Fault,
    /** The server applies the statement; the driver stops waiting for the answer (its query timeout). */
    appliedThenTimedOut: (async (send) => {
      await send();
      throw timeoutError();
    }) satisfies Fault,
    /** No answer, ever, and no driver timeout: what a request timeout of the store's would bound. */
    neverAnswers: (() => new Promise<never>(() => {})) satisfies Fault,
    /** SQLite: another connection holds the database's write lock past the busy timeout (synchronous). */
    busy: (() => {
      throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    }) satisfies Fault,
    /** For `injectConnect`: the pool cannot open a connection (nothing is sent). */
    refused: refusedError,
  };
}

export interface FaultyClient {
  /** Pass this to SqlDatastore. */
  readonly client: SqlClient;
  /** Every statement sent through it, in order. */
  readonly statements: string[];
  /** The next statement (SQL text) matching `match` gets `fault` instead of a plain run; then no more. */
  inject(match: RegExp, fault: Fault): void;
  /** The next request for a connection fails with `error()` (PostgreSQL and MySQL pools). */
  injectConnect(error: () => Error): void;
}

/** Wraps a client so that chosen statements fail; everything else passes through to the real driver. */
export function faultyClient(client: SqlClient): FaultyClient {
  const statements: string[] = [];
  const pending: Array<{ match: RegExp; fault: Fault }> = [];
  let connectFault: (() => Error) | undefined;
  /** Records the statement, and takes the fault injected for it, if any. */
  const faultFor = (sql: string): Fault | undefined => {
    statements.push(sql);
    const at = pending.findIndex((p) => p.match.test(sql));
    return at < 0 ? undefined : pending.splice(at, 1)[0]!.fault;
  };
  const run: Run = async (sql, send) => {
    const fault = faultFor(sql);
    return (fault ? fault(send) : send()) as Awaited<ReturnType<typeof send>>;
  };
  const runSync = (sql: string, send: () => unknown): unknown => {
    const fault = faultFor(sql);
    const result = fault ? fault(send) : send();
    if (fault && result instanceof Promise)
      throw new Error('an asynchronous fault on SQLite, which runs statements synchronously');
    return result;
  };
  const takeConnectFault = (): Error | undefined => {
    const fault = connectFault;
    connectFault = undefined;
    return fault?.();
  };
  const wrapped: SqlClient =
    client.dialect === 'postgres'
      ? { dialect: 'postgres', pool: faultyPostgresPool(client.pool, run, takeConnectFault) }
      : client.dialect === 'mysql'
        ? { dialect: 'mysql', pool: faultyMysqlPool(client.pool, run, takeConnectFault) }
        : { dialect: 'sqlite', database: faultySqliteDatabase(client.database, runSync) };
  return {
    client: wrapped,
    statements,
    inject: (match, fault) => void pending.push({ match, fault }),
    injectConnect: (error) => void (connectFault = error),
  };
}

type Run = <T>(sql: string, send: () => Promise<T>) => Promise<T>;

function faultyPostgresPool(
  pool: PostgresPool,
  run: Run,
  connectFault: () => Error | undefined,
): PostgresPool {
  return {
    // Keeps the pool's options visible, so that the datastore's messages name its host and port.
    options: (pool as { options?: unknown }).options,
    async connect(): Promise<PostgresPoolClient> {
      const refused = connectFault();
      if (refused) throw refused;
      const client = await pool.connect();
      return {
        query: ((
          statement: string | { name: string; text: string; values: readonly unknown[] },
          values?: unknown[],
        ) =>
          typeof statement === 'string'
            ? run(statement, () => client.query(statement, values ?? []))
            : run(statement.text, () => client.query(statement))) as PostgresPoolClient['query'],
        release: (destroy) => client.release(destroy),
      };
    },
    end: () => pool.end(),
  } as PostgresPool;
}

function faultyMysqlPool(pool: MysqlPool, run: Run, connectFault: () => Error | undefined): MysqlPool {
  /** A callback call of mysql2, through `run`. */
  const through =
    (sql: string, call: (done: (error: Error | null, rows: unknown) => void) => void) =>
    (done: (error: Error | null, rows: unknown) => void) =>
      void run(
        sql,
        () => new Promise((resolve, reject) => call((e, rows) => (e ? reject(e) : resolve(rows)))),
      ).then(
        (rows) => done(null, rows),
        (error: Error) => done(error, undefined),
      );
  return {
    config: (pool as { config?: unknown }).config,
    getConnection(done) {
      const refused = connectFault();
      if (refused) return done(refused, undefined as never);
      pool.getConnection((error, connection) => {
        if (error) return done(error, connection);
        done(null, {
          execute: (sql, values, cb) =>
            through(typeof sql === 'string' ? sql : sql.sql, (d) => connection.execute(sql, values, d))(cb),
          query: (sql, values, cb) => through(sql, (d) => connection.query(sql, values, d))(cb),
          release: () => connection.release(),
          destroy: () => connection.destroy(),
        });
      });
    },
    end: (done) => pool.end(done),
  } as MysqlPool;
}

function faultySqliteDatabase(
  database: SqliteDatabase,
  run: (sql: string, send: () => unknown) => unknown,
): SqliteDatabase {
  const statement = (sql: string, real: SqliteStatement): SqliteStatement =>
    new Proxy(real, {
      get(target, key, proxy) {
        const value = Reflect.get(target, key, target);
        // A read's statement switches to arrays, and stays the faulty one.
        if (key === 'raw' && typeof value === 'function')
          return (...args: unknown[]) => (value.apply(target, args), proxy);
        if ((key !== 'run' && key !== 'all') || typeof value !== 'function') return value;
        return (...params: unknown[]) => run(sql, () => value.apply(target, params));
      },
    });
  return new Proxy(database, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (key === 'prepare') return (sql: string) => statement(sql, value.call(target, sql));
      return value.bind(target);
    },
  });
}
