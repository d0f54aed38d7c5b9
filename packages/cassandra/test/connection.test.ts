import { randomUUID } from 'node:crypto';
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { inspect } from 'node:util';
import { parseCommand, startNode, stopNode, toolEnvironment } from '@es/cassandra-server';
import { errors, types } from 'cassandra-driver';
import { SequencedItem, SettingsError, StoreConnectionError } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '../src/index.js';
import { cassandraAvailable, dropAndClose, serverSettings, testKeyspace, testSettings } from './helpers.js';

const AUTH = { name: 'auth', port: 9142, storagePort: 7100 };

/** The error `promise` rejects with, and how long it took. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('expected a rejection');
}

describe('connecting to a server that is not there', () => {
  it('a closed port gives StoreConnectionError naming the hosts and port, without waiting out a hang', async () => {
    const datastore = new CassandraDatastore({
      settings: new CassandraSettings({ hosts: ['127.0.0.1'], port: 9999, connectTimeoutMs: 2000 }, {}),
    });
    const { error, ms } = await failure(datastore.setupConnection());
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect((error as Error).message).toMatch(
      /^cannot connect to Cassandra at 127\.0\.0\.1:9999: .*ECONNREFUSED/,
    );
    // Bounded, not timed: 10x the connect timeout still fails on a hang, and never on a loaded machine.
    expect(ms).toBeLessThan(10 * 2000);
    expect(() => datastore.client).toThrow(StoreConnectionError);
  });

  it('a server that accepts connections but never answers gives StoreConnectionError within the connect timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)); // accepts, then says nothing
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const port = (silent.address() as AddressInfo).port;
    try {
      // The handshake waits at most requestTimeoutMs; the whole connect, at most connectTimeoutMs + 1 s:
      // only a timeout says "no answer" (a refused or reset connection says why it failed).
      const settings = new CassandraSettings(
        { hosts: '127.0.0.1', port, connectTimeoutMs: 1000, requestTimeoutMs: 1000 },
        {},
      );
      const { error, ms } = await failure(new CassandraDatastore({ settings }).setupConnection());
      expect(error).toBeInstanceOf(StoreConnectionError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^cannot connect to Cassandra at 127\\.0\\.0\\.1:${port}: .*(no answer within|did not reply before timeout) 1000 ms`,
        ),
      );
      // Bounded, not timed: 10x the timeouts still fails on a hang, and never on a loaded machine.
      expect(ms).toBeLessThan(10 * 1000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => silent.close(done));
    }
  });

  it('a strategy with no connection set up rejects with StoreConnectionError', async () => {
    const strategy = new CassandraActiveRecordStrategy({ table: CqlIntegerSequencedItem });
    const error = await strategy.getItems(randomUUID()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect((error as Error).message).toContain('setupConnection()');
  });
});

describeIfAvailable(cassandraAvailable, 'connecting to the real node', () => {
  it('a local data centre that does not exist is a SettingsError naming the one found', async () => {
    const datastore = new CassandraDatastore({
      settings: testSettings({ localDataCenter: 'nowhere' }),
    });
    const { error } = await failure(datastore.setupConnection());
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).message).toMatch(/data centre "nowhere".*Available DCs are: \[datacenter1\]/);
    expect((error as SettingsError).field).toBe('localDataCenter');
  });

  it("setupTables waits out a node that has not yet received the keyspace or the table it created (\"Keyspace '...' doesn't exist\", a table not listed), and maps the message when it persists", async () => {
    const keyspace = testKeyspace('schema');
    const table = CqlIntegerSequencedItem.withTableName('late_schema');
    const datastore = new CassandraDatastore({ settings: testSettings({ keyspace }), tables: [table] });
    await datastore.setupConnection();
    const client = datastore.client;
    const execute = client.execute.bind(client);
    // What a coordinator without the new keyspace answers a CREATE TABLE (seen on a loaded ring): twice.
    const late = () =>
      new errors.ResponseError(types.responseErrorCodes.invalid, `Keyspace '${keyspace}' doesn't exist`);
    let refusals = 2;
    let unlisted = 1; // and a node whose schema tables do not list the new table yet: once
    const spy = jest.spyOn(client, 'execute').mockImplementation(((query: string, ...rest: unknown[]) => {
      if (query.startsWith('CREATE TABLE') && refusals > 0) {
        refusals--;
        return Promise.reject(late());
      }
      if (query.startsWith('SELECT comment FROM system_schema.tables') && unlisted > 0) {
        unlisted--;
        return Promise.resolve({ rows: [], first: () => undefined });
      }
      return (execute as (...args: unknown[]) => unknown)(query, ...rest);
    }) as typeof client.execute);
    try {
      await datastore.setupTables(); // before: the driver's ResponseError, untyped
      expect(refusals).toBe(0);
      expect(unlisted).toBe(0);
      const strategy = new CassandraActiveRecordStrategy({ datastore, table });
      const id = randomUUID();
      await strategy.append(new SequencedItem(id, 0, 't', '{}'));
      expect(await strategy.getItems(id)).toHaveLength(1);
      // Anywhere else the message is a typed SettingsError naming the keyspace.
      spy.mockImplementation((() => Promise.reject(late())) as unknown as typeof client.execute);
      const error = await datastore.dropTables().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SettingsError);
      expect((error as SettingsError).field).toBe('keyspace');
      expect((error as Error).message).toMatch(
        new RegExp(`keyspace ${keyspace} does not exist.*setupTables`),
      );
    } finally {
      spy.mockRestore();
      await dropAndClose(datastore);
    }
  }, 60_000);

  it('setupConnection and setupTables are idempotent; dropTables drops; the last connected datastore is the default', async () => {
    const table = CqlIntegerSequencedItem.withTableName('idempotent');
    const datastore = new CassandraDatastore({
      settings: testSettings({ keyspace: testKeyspace('conn') }),
      tables: [table],
    });
    try {
      await datastore.setupConnection();
      await datastore.setupConnection();
      await datastore.setupTables();
      await datastore.setupTables();
      const strategy = new CassandraActiveRecordStrategy({ table: table });
      const id = randomUUID();
      await strategy.append(new SequencedItem(id, 0, 't', '{}'));
      expect(await strategy.getItems(id)).toHaveLength(1);
      await datastore.dropTables();
      const gone = new CassandraActiveRecordStrategy({ table: table });
      await expect(gone.getItems(id)).rejects.toThrow(/does not exist/);
    } finally {
      await dropAndClose(datastore);
    }
  }, 60_000);
});

describeIfAvailable(
  cassandraAvailable,
  `a node with PasswordAuthenticator (instance "${AUTH.name}" on port ${AUTH.port})`,
  () => {
    let startedHere = false;
    const settings = (options: { username?: string; password?: string }) =>
      new CassandraSettings(
        {
          hosts: serverSettings.hosts,
          port: AUTH.port,
          keyspace: testKeyspace('auth'),
          connectTimeoutMs: 5000,
          ...options,
        },
        {},
      );

    // The project's Cassandra tool (pnpm cassandra start --name auth --port 9142 --storage-port 7100 --auth),
    // in process: it starts the node unless one with auth already answers there, and says which it did.
    const env = toolEnvironment();
    beforeAll(async () => {
      const argv = [
        'start',
        '--name',
        AUTH.name,
        '--port',
        `${AUTH.port}`,
        '--storage-port',
        `${AUTH.storagePort}`,
        '--auth',
      ];
      const command = parseCommand(argv);
      if (command.command !== 'start') throw new Error(`not a start command: ${argv.join(' ')}`);
      try {
        startedHere = (await startNode(command.node, env)).started;
      } catch (error) {
        throw new Error(
          `could not start the auth instance with: pnpm cassandra ${argv.join(' ')}\n${String(error)}`,
        );
      }
    }, 300_000);

    afterAll(async () => {
      if (startedHere) await stopNode(AUTH.name, env);
    }, 150_000);

    it('works with the credentials: set up, append, read', async () => {
      const datastore = new CassandraDatastore({
        settings: settings({ username: 'cassandra', password: 'cassandra' }),
        tables: [CqlIntegerSequencedItem],
      });
      try {
        await datastore.setupConnection();
        await datastore.setupTables();
        const strategy = new CassandraActiveRecordStrategy({
          table: CqlIntegerSequencedItem,
          datastore,
        });
        const id = randomUUID();
        await strategy.append([
          new SequencedItem(id, 0, 't', '{"a":1}'),
          new SequencedItem(id, 1, 't', '{"a":2}'),
        ]);
        expect((await strategy.getItems(id)).map((i) => i.data)).toEqual(['{"a":1}', '{"a":2}']);
      } finally {
        await dropAndClose(datastore);
      }
    }, 60_000);

    it('fails clearly without credentials', async () => {
      const { error } = await failure(new CassandraDatastore({ settings: settings({}) }).setupConnection());
      expect(error).toBeInstanceOf(StoreConnectionError);
      expect((error as Error).message).toContain(
        `cannot authenticate to Cassandra at ${serverSettings.hosts[0]}:${AUTH.port}`,
      );
      expect((error as Error).message).toContain(
        'requires a username and password (CASSANDRA_USERNAME, CASSANDRA_PASSWORD)',
      );
    });

    it('fails clearly with a wrong password', async () => {
      const { error } = await failure(
        new CassandraDatastore({
          settings: settings({ username: 'cassandra', password: 'wrong-pw-5e1f' }),
        }).setupConnection(),
      );
      expect(error).toBeInstanceOf(StoreConnectionError);
      expect((error as Error).message).toContain('the credentials of user "cassandra" were refused');
      // Logged whole, with its causes, the error does not show the password it was refused.
      expect(inspect(error, { depth: Infinity })).not.toContain('wrong-pw-5e1f');
    });
  },
);
