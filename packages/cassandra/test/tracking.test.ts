import { randomUUID } from 'node:crypto';
import { AlreadyProcessedError, type Notification, SequencedItem, StoreConnectionError } from '@es/core';
import { SqlDatastore, SqlSettings, SqlTracking, SqlTrackingRecorder } from '@es/sql';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  type CassandraDatastore,
  CassandraTrackingRecorder,
  type CqlSession,
} from '../src/index.js';
import { feedStore, feedTable, readAll } from './feed-helpers.js';
import { cassandraAvailable, dropAndClose, openDatastore, testKeyspace } from './helpers.js';

// Read models fed from the Cassandra feed. In Cassandra: tracking by lightweight transaction, effects
// at least once, so exact only when idempotent (CassandraTrackingRecorder's doc comment), and these
// tests check exactly that. In SQL: tracking and effects in one transaction, exactly once.

const item = (id: string, position: number) =>
  new SequencedItem(id, position, 'feed.Test', `{"p":${position}}`);

describeIfAvailable(cassandraAvailable, 'read models fed from the Cassandra feed', () => {
  const keyspace = testKeyspace('tracking');
  const table = feedTable('tracked');
  let datastore: CassandraDatastore;
  let notifications: Notification[];

  beforeAll(async () => {
    datastore = await openDatastore(keyspace, [table]);
    await new CassandraTrackingRecorder({ datastore }).setupTable();
    await datastore.client.execute(
      `CREATE TABLE ${keyspace}.seen (sequence_id text, position bigint, data text, PRIMARY KEY (sequence_id, position))`,
    );
    const store = feedStore(datastore, table);
    const ids = [randomUUID(), randomUUID()];
    for (let i = 0; i < 12; i++) await store.append(item(ids[i % 2]!, Math.floor(i / 2)));
    const reader = new CassandraActiveRecordStrategy({
      table,
      datastore,
      catchUpOnRead: true,
    });
    notifications = await readAll(reader);
    expect(notifications).toHaveLength(12);
  }, 120_000);
  afterAll(() => dropAndClose(datastore), 120_000);

  /** The idempotent effect: an upsert keyed by the event's sequence and position. */
  const upsert = (n: Notification) => async (session: CqlSession) => {
    await session.client.execute(
      `INSERT INTO ${session.keyspace}.seen (sequence_id, position, data) VALUES (?, ?, ?)`,
      [n.sequenceId, n.position, n.data],
      { prepare: true },
    );
  };
  const readModel = async (): Promise<string[]> =>
    (await datastore.client.execute(`SELECT sequence_id, position FROM ${keyspace}.seen`)).rows
      .map((row) => `${row.get('sequence_id') as string}/${String(row.get('position'))}`)
      .sort();
  const expected = () => notifications.map((n) => `${n.sequenceId}/${n.position}`).sort();

  it('in Cassandra: a crash between the effects and the tracking row runs the effects again (at least once), and the idempotent read model ends exact; tracked notifications are refused before their effects run', async () => {
    await datastore.client.execute(`TRUNCATE ${keyspace}.seen`);
    const app = `projection-${randomUUID()}`;
    let trackingWrites = 0;
    // The tracking row of the 5th notification fails once, never sent: the effects have run.
    const session = datastore.session;
    const flaky: CqlSession = {
      ...session,
      client: {
        batch: session.client.batch,
        execute: ((cql: string, params: unknown[], options: object) => {
          if (/INSERT INTO .*tracking .*IF NOT EXISTS/.test(cql) && ++trackingWrites === 5)
            return Promise.reject(
              Object.assign(new Error('Operation timed out'), { name: 'OperationTimedOutError' }),
            );
          return datastore.client.execute(cql, params, options);
        }) as CqlSession['client']['execute'],
      },
    };
    const recorder = new CassandraTrackingRecorder({ session: flaky });
    const effects = new Map<number, number>();
    const follow = async () => {
      for (const n of notifications) {
        if (n.id <= (await recorder.maxTrackingId(app))) continue;
        await recorder.processWithTracking({ applicationName: app, notificationId: n.id }, async (s) => {
          effects.set(n.id, (effects.get(n.id) ?? 0) + 1);
          await upsert(n)(s);
        });
      }
    };
    await expect(follow()).rejects.toBeInstanceOf(StoreConnectionError); // the crash, as the follower sees it
    await follow(); // restarted from its tracking
    expect(await recorder.maxTrackingId(app)).toBe(notifications.at(-1)!.id);
    expect(effects.get(notifications[4]!.id)).toBe(2); // at least once: twice for the one that crashed
    expect([...effects.values()].filter((count) => count !== 1)).toEqual([2]);
    expect(await readModel()).toEqual(expected()); // exact: the effect is an upsert
    // Tracked: refused before its effects run.
    let ran = false;
    await expect(
      recorder.processWithTracking({ applicationName: app, notificationId: notifications[0]!.id }, () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(AlreadyProcessedError);
    expect(ran).toBe(false);
  }, 120_000);

  it('in Cassandra: of two competing copies of a follower, exactly one records each notification', async () => {
    const app = `projection-${randomUUID()}`;
    const recorders = [1, 2].map(() => new CassandraTrackingRecorder({ datastore }));
    const outcomes = await Promise.all(
      notifications.flatMap((n) =>
        recorders.map((r) =>
          r.processWithTracking({ applicationName: app, notificationId: n.id }, upsert(n)).then(
            () => 'recorded',
            (error: unknown) => (error instanceof AlreadyProcessedError ? 'refused' : String(error)),
          ),
        ),
      ),
    );
    for (let i = 0; i < notifications.length; i++)
      expect([outcomes[2 * i], outcomes[2 * i + 1]].sort()).toEqual(['recorded', 'refused']);
    expect(await readModel()).toEqual(expected());
  }, 120_000);

  it('in SQL (SQLite), fed from Cassandra: exactly once, even for effects that are not idempotent (a counter)', async () => {
    const sqlite = new SqlDatastore({
      settings: new SqlSettings({ url: 'sqlite::memory:' }),
      tables: [SqlTracking],
    });
    await sqlite.setupConnection();
    await sqlite.setupTables();
    try {
      await sqlite.db.schema
        .createTable('totals')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('n', 'integer')
        .execute();
      await sqlite.db.insertInto('totals').values({ name: 'events', n: 0 }).execute();
      const recorder = new SqlTrackingRecorder({ datastore: sqlite });
      const app = 'totals';
      // A Kysely transaction (this package does not depend on kysely: its type comes from the recorder).
      type Transaction = Parameters<Parameters<SqlTrackingRecorder['processWithTracking']>[1]>[0];
      const increment = async (trx: Transaction) => {
        await trx
          .updateTable('totals')
          .set((eb) => ({ n: eb('n', '+', 1) }))
          .where('name', '=', 'events')
          .execute();
      };
      const follow = async (failAt?: number) => {
        for (const n of notifications) {
          if (n.id <= (await recorder.maxTrackingId(app))) continue;
          await recorder.processWithTracking({ applicationName: app, notificationId: n.id }, async (trx) => {
            await increment(trx);
            if (n.id === failAt) throw new Error('crash after the effect, before the commit');
          });
        }
      };
      await expect(follow(notifications[6]!.id)).rejects.toThrow(/crash/);
      await follow();
      // Every notification processed again: each refused, the counter untouched.
      for (const n of notifications)
        await expect(
          recorder.processWithTracking({ applicationName: app, notificationId: n.id }, increment),
        ).rejects.toBeInstanceOf(AlreadyProcessedError);
      const total = await sqlite.db.selectFrom('totals').select('n').executeTakeFirstOrThrow();
      expect(Number(total.n)).toBe(notifications.length);
      expect(await recorder.maxTrackingId(app)).toBe(notifications.at(-1)!.id);
    } finally {
      await sqlite.close();
    }
  }, 120_000);
});
