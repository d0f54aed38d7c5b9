import type { MysqlPool, MysqlPoolConnection } from './mysql.js';
import type { PostgresPool, PostgresPoolClient } from './postgres.js';

/**
 * Every request to a server gets a bounded time (`requestTimeoutMs`), whatever the network does: a
 * cut that drops packets without a reset would otherwise leave a statement waiting forever (the OS
 * gives up on an unacknowledged socket only after many minutes). The pool is wrapped, so the bound
 * holds for the store's statements and Kysely's alike, on the datastore's own pool and on yours.
 *
 * After the time runs out, the statement's promise rejects with a `RequestTimeout` and its connection
 * is broken for good: later statements on it reject at once (so a rollback does not wait again), and
 * it is destroyed, not returned to the pool, when released (an answer might still arrive on it).
 * errors.ts maps the timeout like any lost answer: OutcomeUnknownError for a write, StoreConnectionError
 * for a read.
 */
export class RequestTimeout extends Error {
  readonly code = 'ES_REQUEST_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms (requestTimeoutMs)`);
    this.name = 'RequestTimeout';
  }
}

/** A connection's timer state: once timed out, it is broken. */
class Bound {
  broken: RequestTimeout | undefined;
  constructor(private readonly timeoutMs: number) {}

  run<T>(send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.send<T>(
        // A promise rejected with no reason (or a falsy one) is still a failure.
        (done) =>
          send().then(
            (value) => done(null, value),
            (error: unknown) => done(error ?? new Error('the request was rejected without a reason')),
          ),
        (error, value) => (error ? reject(error) : resolve(value as T)),
      ),
    );
  }

  /**
   * The same in callbacks (mysql2's API): no promise between the driver and its caller, whose
   * append path is a few microseconds of CPU all told.
   */
  send<T>(
    request: (done: (error: unknown, value?: T) => void) => void,
    callback: (error: unknown, value?: T) => void,
  ): void {
    if (this.broken) {
      const broken = this.broken;
      return process.nextTick(() => callback(broken));
    }
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      this.broken = new RequestTimeout(this.timeoutMs);
      callback(this.broken);
    }, this.timeoutMs);
    const settle = (error: unknown, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      callback(error, value);
    };
    // A driver that throws at once (mysql2 on an undefined parameter) answers like one that calls back
    // later. An error thrown once the request has settled is the caller's callback's own: it propagates.
    try {
      request(settle);
    } catch (error) {
      if (settled) throw error;
      process.nextTick(() => settle(error));
    }
  }
}

export function boundPostgresPool(pool: PostgresPool, timeoutMs: number): PostgresPool {
  return {
    // Keeps the pool's options visible (messages name its host and port).
    options: (pool as { options?: unknown }).options,
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      const bound = new Bound(timeoutMs);
      return {
        query: ((...args: [any, any?]) =>
          bound.run(() =>
            (client.query as (...a: unknown[]) => Promise<any>)(...args),
          )) as PostgresPoolClient['query'],
        release: (destroy?: Error | boolean) => client.release(bound.broken ?? destroy),
      };
    },
    end: () => pool.end(),
  } as PostgresPool;
}

export function boundMysqlPool(pool: MysqlPool, timeoutMs: number): MysqlPool {
  // The parameter and callback types of MysqlPoolConnection (mysql.ts says why they hold `any`).
  type Statement = Parameters<MysqlPoolConnection['execute']>;
  type Callback = Statement[2];
  // One bound connection per pooled one, made on its first checkout: an append checks a connection out
  // once, and its wrapper and closures cost more than the statement's own client work.
  const bound = new WeakMap<MysqlPoolConnection, MysqlPoolConnection>();
  const wrap = (connection: MysqlPoolConnection): MysqlPoolConnection => {
    const timer = new Bound(timeoutMs);
    const call =
      (method: 'execute' | 'query') =>
      (sql: Statement[0], values: Statement[1], callback: Callback): void =>
        // A string, or execute's options (a read's rowsAsArray): passed on as they are.
        timer.send(
          (done) => (connection[method] as MysqlPoolConnection['execute'])(sql, values, done),
          (error, rows) => callback((error as Error | null) ?? null, rows),
        );
    return {
      execute: call('execute'),
      query: call('query'),
      release: () => (timer.broken ? connection.destroy() : connection.release()),
      destroy: () => connection.destroy(),
    };
  };
  return {
    config: (pool as { config?: unknown }).config,
    getConnection(done: (error: Error | null, connection: MysqlPoolConnection) => void) {
      pool.getConnection((error, connection) => {
        if (error) return done(error, connection);
        let wrapped = bound.get(connection);
        if (wrapped === undefined) bound.set(connection, (wrapped = wrap(connection)));
        done(null, wrapped);
      });
    },
    end: (callback: (error: unknown) => void) => pool.end(callback),
  } as MysqlPool;
}
