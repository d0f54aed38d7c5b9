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
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.broken = new RequestTimeout(this.timeoutMs);
        reject(this.broken);
      }, this.timeoutMs);
      send().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
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
  type Callback = (error: Error | null, rows: any) => void;
  return {
    config: (pool as { config?: unknown }).config,
    getConnection(done: (error: Error | null, connection: MysqlPoolConnection) => void) {
      pool.getConnection((error, connection) => {
        if (error) return done(error, connection);
        const bound = new Bound(timeoutMs);
        const call =
          (method: 'execute' | 'query') =>
          (sql: Parameters<MysqlPoolConnection['execute']>[0], values: any[], callback: Callback): void =>
            void bound
              .run(
                () =>
                  new Promise((resolve, reject) =>
                    // A string, or execute's options (a read's rowsAsArray): passed on as they are.
                    (connection[method] as MysqlPoolConnection['execute'])(sql, values, (e, rows) =>
                      e ? reject(e) : resolve(rows),
                    ),
                  ),
              )
              .then(
                (rows) => callback(null, rows),
                (e: Error) => callback(e, undefined),
              );
        done(null, {
          execute: call('execute'),
          query: call('query'),
          release: () => (bound.broken ? connection.destroy() : connection.release()),
          destroy: () => connection.destroy(),
        });
      });
    },
    end: (callback: (error: unknown) => void) => pool.end(callback),
  } as MysqlPool;
}
