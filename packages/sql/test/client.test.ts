import { randomUUID } from 'node:crypto';
import { NotificationLogReader, SequencedItem, SettingsError, StoreClosedError } from '@es/core';
import { ExampleApplication, checkSeedScenario, runSeedScenario } from '@es/example';
import {
  SqlActiveRecordStrategy,
  type SqlClient,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlTracking,
} from '../src/index.js';
import { describeEachDialect, uniqueName } from './dialects.js';
import { userClient } from './faults.js';

/** One round trip on the user's client, without the datastore: it is still open. */
async function answers(client: SqlClient): Promise<boolean> {
  switch (client.dialect) {
    case 'sqlite':
      return (client.database.prepare('select 1 as one').all()[0] as { one: number }).one === 1;
    case 'postgres': {
      const connection = await client.pool.connect();
      try {
        return (await connection.query('select 1 as one', [])).rows[0]?.one === 1;
      } finally {
        connection.release();
      }
    }
    case 'mysql':
      return new Promise((resolve, reject) =>
        client.pool.getConnection((error, connection) => {
          if (error) return reject(error);
          connection.query('select 1 as one', [], (e, rows) => {
            connection.release();
            return e ? reject(e) : resolve(rows[0]?.one === 1);
          });
        }),
      );
  }
}

describeEachDialect('a pool or database of your own (the client option)', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('own'));
  const tracking = SqlTracking.withTableName(uniqueName('own_tracking'));
  let own: ReturnType<typeof userClient>;
  let datastore: SqlDatastore;

  beforeAll(async () => {
    own = userClient(dialect);
    datastore = await SqlDatastore.open({ client: own.client, tables: [table, tracking] });
  });
  afterAll(async () => {
    try {
      await datastore?.dropTables();
      await datastore?.close();
    } finally {
      await own?.end();
    }
  });

  it("runs the seed's scenario on it, with the store's own appends and prepared reads", async () => {
    await using app = new ExampleApplication({
      activeRecordStrategy: new SqlActiveRecordStrategy({ datastore, table }),
    });
    const report = await runSeedScenario(app);
    expect(checkSeedScenario(report)).toEqual([]);
    expect(report.notifications).toHaveLength(3);
  });

  it('follows the notification log and tracks a projection on it', async () => {
    const strategy = new SqlActiveRecordStrategy({ datastore, table, tracking });
    const id = randomUUID();
    await strategy.append([0, 1].map((p) => new SequencedItem(id, p, 'test.Item', `{"p":${p}}`)));
    const reader = new NotificationLogReader(strategy);
    const mine = [];
    for await (const n of reader.read()) if (n.sequenceId === id) mine.push(n);
    expect(mine.map((n) => n.position)).toEqual([0, 1]);
    const app = `own-${randomUUID()}`;
    await strategy.processWithTracking({ applicationName: app, notificationId: mine[1]!.id }, async () => {});
    expect(await strategy.maxTrackingId(app)).toBe(mine[1]!.id);
  });

  it("describes the client in its settings, from the driver's configuration", () => {
    const settings = datastore.settings;
    const expected = dialect.settings();
    expect(settings.dialect).toBe(dialect.name);
    if (dialect.name === 'sqlite') expect(settings.filename).toBe(expected.filename);
    else
      expect([settings.host, settings.port, settings.database]).toEqual([
        expected.host,
        expected.port,
        expected.database,
      ]);
  });

  it('never closes it: close() releases only what the datastore opened; the owner keeps using it', async () => {
    const second = new SqlDatastore({ client: own.client, tables: [table] });
    const strategy = new SqlActiveRecordStrategy({ datastore: second, table });
    const id = randomUUID();
    await strategy.append(new SequencedItem(id, 0, 'test.Item', '{}'));
    await second.close();
    expect(await answers(own.client)).toBe(true);
    // The other datastore on the same client is untouched; the closed one refuses (it never reopens).
    expect(await new SqlActiveRecordStrategy({ datastore, table }).getItems(id)).toHaveLength(1);
    await expect(strategy.getItems(id)).rejects.toBeInstanceOf(StoreClosedError);
    await second.close();
    expect(await answers(own.client)).toBe(true);
  });
});

describeEachDialect(
  'a SQLite database of your own, in a file',
  (dialect) => {
    it('reads the store during an open transaction through a read-only connection of the datastore', async () => {
      const own = userClient(dialect);
      const table = SqlIntegerSequencedItem.withTableName(uniqueName('own_trx'));
      const datastore = await SqlDatastore.open({ client: own.client, tables: [table] });
      try {
        const strategy = new SqlActiveRecordStrategy({ datastore, table });
        const id = randomUUID();
        await strategy.append(new SequencedItem(id, 0, 'test.Item', '{}'));
        // On one connection, this read would wait for the transaction that awaits it: forever.
        const inside = await datastore.transaction(async (trx) => {
          await trx
            .insertInto(table.tableName)
            .values({ sequence_id: id, position: 1, topic: 't', data: '{}' })
            .execute();
          return strategy.getItems(id);
        });
        expect(inside.map((i) => i.position)).toEqual([0]); // committed rows only
        expect((await strategy.getItems(id)).map((i) => i.position)).toEqual([0, 1]);
        await datastore.dropTables();
      } finally {
        await datastore.close();
        if (own.client.dialect === 'sqlite') expect(own.client.database.memory).toBe(false);
        expect(await answers(own.client)).toBe(true);
        await own.end();
      }
    });
  },
  { only: ['sqlite'] },
);

describe('the client option, checked', () => {
  it('refuses what is not a client, with a SettingsError naming the field', () => {
    for (const [client, field] of [
      [{ dialect: 'oracle', pool: {} }, 'client.dialect'],
      [{ dialect: 'postgres', pool: {} }, 'client.pool'],
      [{ dialect: 'mysql', pool: { connect() {} } }, 'client.pool'],
      [{ dialect: 'sqlite', pool: {} }, 'client.database'],
    ] as const) {
      const make = () => new SqlDatastore({ client: client as never });
      expect(make).toThrow(SettingsError);
      try {
        make();
      } catch (error) {
        expect((error as SettingsError).field).toBe(field);
      }
    }
  });

  it('refuses settings of another dialect than the client', () => {
    const database = {
      name: ':memory:',
      memory: true,
      prepare() {},
      transaction() {},
      pragma() {},
      close() {},
    };
    expect(
      () =>
        new SqlDatastore({
          client: { dialect: 'sqlite', database: database as never },
          settings: new SqlSettings('postgres://postgres@127.0.0.1:5432/test'),
        }),
    ).toThrow(/the client is a sqlite database, but the settings say postgres/);
  });

  it('takes host, port, user and database from a connection string in the pool options', () => {
    const pool = {
      options: { connectionString: 'postgres://app:secret@db.example.com:6543/events?sslmode=require' },
      connect() {},
      end() {},
    };
    const datastore = new SqlDatastore({ client: { dialect: 'postgres', pool: pool as never } });
    expect(datastore.settings.toString()).toBe('postgres://app@db.example.com:6543/events');
  });
});
