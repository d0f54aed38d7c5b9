import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrencyError, OutcomeUnknownError, SequencedItem, StoreConnectionError } from '@es/core';
import { classify, mapDriverError } from '../src/errors.js';
import {
  LockTimeoutError,
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlTracking,
  SqlTrackingRecorder,
  StorageFullError,
} from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a database that cannot be reached: StoreConnectionError naming where', () => {
  it.each(['postgres', 'mysql'] as const)('%s: nothing listening at host:port', async (dialect) => {
    const port = await closedPort();
    const datastore = new SqlDatastore({
      settings: new SqlSettings({
        url: `${dialect}://someone:secret@127.0.0.1:${port}/test`,
        connectTimeoutMs: 2000,
      }),
      tables: [SqlIntegerSequencedItem],
    });
    try {
      const error = await datastore.setupConnection().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreConnectionError);
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
      expect((error as Error).message).not.toContain('secret');
      // A strategy's first use tries again, and fails the same way: nothing was sent, so not OutcomeUnknown.
      const strategy = new SqlActiveRecordStrategy({ datastore, table: SqlIntegerSequencedItem });
      await expect(strategy.append(new SequencedItem(randomUUID(), 0, 't', '{}'))).rejects.toBeInstanceOf(
        StoreConnectionError,
      );
      await expect(strategy.getItems(randomUUID())).rejects.toBeInstanceOf(StoreConnectionError);
    } finally {
      await datastore.close();
    }
  });

  it('sqlite: a file in a directory that does not exist', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'es-sql-missing-'));
    rmSync(directory, { recursive: true });
    const filename = join(directory, 'es.db');
    const datastore = new SqlDatastore({ settings: new SqlSettings(`sqlite:${filename}`) });
    await expect(datastore.setupConnection()).rejects.toThrow(StoreConnectionError);
    await expect(datastore.setupConnection()).rejects.toThrow(filename);
    await datastore.close();
  });
});

// SQLite creates a missing database file; servers refuse a missing database.
describeEachDialect(
  'connection errors from a live server',
  (dialect) => {
    it('a database that does not exist is a StoreConnectionError', async () => {
      const database = `missing_${randomUUID().slice(0, 8)}`;
      const datastore = new SqlDatastore({ settings: dialect.settings({ database }) });
      await expect(datastore.setupConnection()).rejects.toThrow(StoreConnectionError);
      await expect(datastore.setupConnection()).rejects.toThrow(database);
      await datastore.close();
    });
  },
  { only: ['postgres', 'mysql'] },
);

/**
 * A TCP proxy that can lose the connection at the worst moment: once armed, it lets the client's next
 * message through to the server, then drops the connection instead of passing on the answer. The
 * server did the work; the client cannot know.
 */
class ConnectionCutter {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private armed = false;

  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      this.sockets.add(client).add(upstream);
      let cut = false;
      client.on('data', (chunk) => {
        upstream.write(chunk);
        if (this.armed) {
          this.armed = false;
          cut = true;
        }
      });
      upstream.on('data', (chunk) => {
        if (!cut) client.write(chunk);
        else {
          client.destroy();
          upstream.destroy();
        }
      });
      for (const socket of [client, upstream]) {
        socket.on('error', () => {});
        socket.on('close', () => {
          client.destroy();
          upstream.destroy();
        });
      }
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Cut the connection after the client's next message. */
  arm(): void {
    this.armed = true;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// SQLite runs in process: it has no connection to lose.
describeEachDialect(
  'a connection lost after a write was sent',
  (dialect) => {
    const table = SqlIntegerSequencedItem.withTableName(uniqueName('cut'));
    const tracking = SqlTracking.withTableName(uniqueName('cut_tracking'));
    const direct = useDatastore(dialect, [table, tracking]);
    let cutter: ConnectionCutter;
    let datastore: SqlDatastore;

    beforeAll(async () => {
      const settings = dialect.settings();
      cutter = new ConnectionCutter({ host: settings.host!, port: settings.port! });
      const port = await cutter.listen();
      // One pooled connection, so the armed cut hits the statement under test.
      datastore = new SqlDatastore({
        settings: dialect.settings({ host: '127.0.0.1', port, poolSize: 1 }),
        tables: [table, tracking],
      });
      await datastore.setupConnection();
    });
    afterAll(async () => {
      await datastore?.close();
      await cutter?.close();
    });

    it('an append gives OutcomeUnknownError, and in fact it was written', async () => {
      const strategy = new SqlActiveRecordStrategy({ datastore, table });
      const id = randomUUID();
      await strategy.append(new SequencedItem(id, 0, 't', '{"before":true}')); // prepares the statement
      cutter.arm();
      const error = await strategy.append(new SequencedItem(id, 1, 't', '{"cut":true}')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect((error as Error).message).toMatch(/outcome is unknown/);
      // Hence "read before retrying": the item is there, and a blind retry would conflict.
      const stored = await new SqlActiveRecordStrategy({ datastore: direct(), table }).getItems(id);
      expect(stored.map((i) => i.data)).toEqual(['{"before":true}', '{"cut":true}']);
      // The pool replaced the lost connection.
      await strategy.append(new SequencedItem(id, 2, 't', '{"after":true}'));
    });

    it('a read gives StoreConnectionError (a read has no outcome to be unsure of)', async () => {
      const strategy = new SqlActiveRecordStrategy({ datastore, table });
      await strategy.getItems(randomUUID()); // a warm connection
      cutter.arm();
      await expect(strategy.getItems(randomUUID())).rejects.toBeInstanceOf(StoreConnectionError);
      expect(await strategy.getItems(randomUUID())).toEqual([]);
    });

    it('a tracking commit gives OutcomeUnknownError, and in fact it committed', async () => {
      const recorder = new SqlTrackingRecorder({ datastore, table: tracking });
      const app = `app-${randomUUID()}`;
      const error = await recorder
        .processWithTracking({ applicationName: app, notificationId: 5 }, async () => {
          cutter.arm(); // the next message is the COMMIT
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect(await new SqlTrackingRecorder({ datastore: direct(), table: tracking }).maxTrackingId(app)).toBe(
        5,
      );
    });
  },
  { only: ['postgres', 'mysql'] },
);

describe('how driver errors map onto the error hierarchy', () => {
  const settings = new SqlSettings('postgres://app:secret@db.example.com:6543/events');
  const write = { write: true, what: 'an append' };
  const read = { write: false, what: 'a read' };
  const driverError = (fields: object) => Object.assign(new Error('driver says no'), fields);

  it.each([
    ['PostgreSQL lock_timeout', { code: '55P03' }, LockTimeoutError],
    ['MySQL lock wait timeout', { code: 'ER_LOCK_WAIT_TIMEOUT' }, LockTimeoutError],
    ['SQLite busy', { code: 'SQLITE_BUSY' }, LockTimeoutError],
    ['PostgreSQL deadlock', { code: '40P01' }, LockTimeoutError],
    ['MySQL deadlock', { code: 'ER_LOCK_DEADLOCK' }, LockTimeoutError],
    ['connection refused', { code: 'ECONNREFUSED' }, StoreConnectionError],
    ['PostgreSQL authentication', { code: '28P01' }, StoreConnectionError],
    ['MySQL access denied', { code: 'ER_ACCESS_DENIED_ERROR' }, StoreConnectionError],
    ['a reset connection, writing', { code: 'ECONNRESET' }, OutcomeUnknownError],
    [
      'node-postgres losing its socket, writing',
      { message: 'Connection terminated unexpectedly' },
      OutcomeUnknownError,
    ],
    ['mysql2 losing its socket, writing', { code: 'PROTOCOL_CONNECTION_LOST' }, OutcomeUnknownError],
    ["node-postgres' query_timeout, writing", { message: 'Query read timeout' }, OutcomeUnknownError],
    ["mysql2's query timeout, writing", { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }, OutcomeUnknownError],
    // A full disk (test/disk-full.test.ts makes SQLite's for real; the servers' cannot be, without root).
    ['SQLite full', { code: 'SQLITE_FULL' }, StorageFullError],
    ['PostgreSQL disk_full', { code: '53100' }, StorageFullError],
    ['MySQL table full', { code: 'ER_RECORD_FILE_FULL' }, StorageFullError],
    ['MySQL disk full', { code: 'ER_DISK_FULL' }, StorageFullError],
  ])('%s', (_name, fields, expected) => {
    const mapped = mapDriverError(settings, driverError(fields), write);
    expect(mapped).toBeInstanceOf(expected);
    expect((mapped as Error).message).not.toContain('secret');
  });

  it('a lost connection or a driver timeout during a read is a StoreConnectionError, not an unknown outcome', () => {
    for (const fields of [
      { code: 'ECONNRESET' },
      { message: 'Query read timeout' },
      { code: 'PROTOCOL_SEQUENCE_TIMEOUT' },
    ]) {
      expect(mapDriverError(settings, driverError(fields), read)).toBeInstanceOf(StoreConnectionError);
    }
  });

  it('a connection error names host and port', () => {
    expect(
      (mapDriverError(settings, driverError({ code: 'ECONNREFUSED' }), read) as Error).message,
    ).toContain('db.example.com:6543');
  });

  it('anything else is passed on as the driver raised it', () => {
    const error = driverError({ code: '42601' });
    expect(mapDriverError(settings, error, write)).toBe(error);
    expect(classify(driverError({ code: '23505' }))).toBe('unique');
    expect(classify(driverError({ code: 'ER_DUP_ENTRY' }))).toBe('unique');
    expect(classify(driverError({ code: 'SQLITE_CONSTRAINT_UNIQUE' }))).toBe('unique');
  });
});

describe('a timeout on a connection in use', () => {
  const settings = new SqlSettings('postgres://postgres@127.0.0.1:5432/test');
  const timeout = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' });

  it('during a write: the outcome is unknown (the server may have applied it)', () => {
    expect(mapDriverError(settings, timeout, { write: true, what: 'an append' })).toBeInstanceOf(
      OutcomeUnknownError,
    );
  });

  it('during a read: a connection error naming where', () => {
    const mapped = mapDriverError(settings, timeout, { write: false, what: 'a read' });
    expect(mapped).toBeInstanceOf(StoreConnectionError);
    expect((mapped as Error).message).toContain('127.0.0.1:5432');
  });
});

describeEachDialect('conflicts', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('conflicts'));
  const datastore = useDatastore(dialect, [table]);

  it('a taken position and a gap are ConcurrencyErrors without a stack trace (expected and retried)', async () => {
    const store = new SqlActiveRecordStrategy({ datastore: datastore(), table });
    const id = randomUUID();
    const item = (position: number) => new SequencedItem(id, position, 'test.E', '{}');
    await store.append([item(0), item(1)]);
    const refusals = await Promise.all(
      [[item(1)], [item(3)]].map((batch) =>
        store.append(batch).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(ConcurrencyError);
      expect(refusal).toMatchObject({ sequenceId: id });
      expect((refusal as Error).stack).not.toContain('\n    at ');
    }
    expect((await store.getItems(id)).map((i) => i.position)).toEqual([0, 1]);
  });
});
