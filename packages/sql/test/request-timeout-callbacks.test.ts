/**
 * The MySQL pool's request bound (request-timeout.ts) over a fake pool, no server: a driver that
 * throws at once answers its caller once, and its connection is not taken for a timed-out one later.
 */
import type { MysqlPool, MysqlPoolConnection } from '../src/mysql.js';
import { boundMysqlPool } from '../src/request-timeout.js';

const TIMEOUT_MS = 20;

function fakePool(): { pool: MysqlPool; released: string[] } {
  const released: string[] = [];
  const connection: MysqlPoolConnection = {
    execute: () => {
      throw new TypeError('Bind parameters must not contain undefined');
    },
    query: (_sql, _values, callback) => callback(null, []),
    release: () => released.push('release'),
    destroy: () => released.push('destroy'),
  };
  const pool: MysqlPool = {
    getConnection: (callback) => callback(null, connection),
    end: (callback) => callback(undefined),
  };
  return { pool, released };
}

it('a statement the driver refuses at once: one answer, and its connection is not broken by the timer', async () => {
  const { pool, released } = fakePool();
  const bound = boundMysqlPool(pool, TIMEOUT_MS);
  const connection = await new Promise<MysqlPoolConnection>((resolve) =>
    bound.getConnection((_error, c) => resolve(c)),
  );
  const answers: unknown[] = [];
  connection.execute('insert ...', [undefined], (error) => answers.push(error));
  // Past the request timeout: a timer left running would answer again and break the connection.
  await new Promise((resolve) => setTimeout(resolve, 3 * TIMEOUT_MS));
  expect(answers).toHaveLength(1);
  expect(answers[0]).toBeInstanceOf(TypeError);
  connection.release();
  expect(released).toEqual(['release']);
  const rows = await new Promise((resolve, reject) =>
    connection.query('select 1', [], (error, r) => (error ? reject(error) : resolve(r))),
  );
  expect(rows).toEqual([]);
});

it("a caller's callback that throws after a synchronous answer: the error reaches the caller, not swallowed", async () => {
  const { pool } = fakePool();
  const bound = boundMysqlPool(pool, TIMEOUT_MS);
  const connection = await new Promise<MysqlPoolConnection>((resolve) =>
    bound.getConnection((_error, c) => resolve(c)),
  );
  // The fake's query calls back synchronously; the callback then throws.
  expect(() =>
    connection.query('select 1', [], () => {
      throw new RangeError("the caller's own bug");
    }),
  ).toThrow("the caller's own bug");
});

it('a PostgreSQL query rejected with no reason is a failure, not a success', async () => {
  const { boundPostgresPool } = await import('../src/request-timeout.js');
  const client = {
    query: () => Promise.reject(undefined),
    release: () => undefined,
  };
  const pool = { connect: async () => client, end: async () => undefined } as unknown as Parameters<
    typeof boundPostgresPool
  >[0];
  const connected = await boundPostgresPool(pool, TIMEOUT_MS).connect();
  await expect(connected.query({ name: 'q', text: 'select 1', values: [] })).rejects.toThrow(
    /rejected without a reason/,
  );
});
