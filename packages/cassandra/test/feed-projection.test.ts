import { describeIfAvailable } from '@es/testing/conformance';
import { randomUUID } from 'node:crypto';
import { Aggregate, Application, type EventOf } from '@es/core';
import { SqlDatastore, SqlSettings, SqlTracking, SqlTrackingRecorder } from '@es/sql';
import { openStore } from '../src/index.js';
import { cassandraAvailable, cassandraUrl, testKeyspace } from './helpers.js';

// core's ProjectionRunner following a Cassandra store with a feed, through the same interface as any
// other store (ApplicationRecorder: selectNotifications, maxNotificationId, the append signal), into a
// read model in SQL (SQLite) kept exactly once with SqlTrackingRecorder.

type TabEvents = { Opened: { table: number }; Ordered: { item: string } };
class Tab extends Aggregate<TabEvents> {
  static readonly topic = 'cassandra.feed.Tab';
  table = 0;
  order(item: string): void {
    this.trigger('Ordered', { item });
  }
  protected apply(event: EventOf<TabEvents>): void {
    if (event.type === 'Opened') this.table = event.table;
  }
}

describeIfAvailable(cassandraAvailable, 'a projection of a Cassandra store with a feed', () => {
  const keyspace = testKeyspace('feed_projection');
  const url = cassandraUrl.replace(/^(cassandra:\/\/[^/?#]+)(\/[^?#]*)?/, `$1/${keyspace}`);

  afterAll(async () => {
    const store = await openStore(url);
    try {
      await store.datastore.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('ProjectionRunner keeps a SQL read model of it exactly once, across a restart of the runner', async () => {
    const store = await openStore(url, { feed: true, createTables: true });
    await using app = await Application.open({ store, aggregates: [Tab] });
    const sqlite = new SqlDatastore({
      settings: new SqlSettings({ url: 'sqlite::memory:' }),
      tables: [SqlTracking],
    });
    await sqlite.setupConnection();
    await sqlite.setupTables();
    try {
      await sqlite.db.schema
        .createTable('orders')
        .addColumn('tab', 'text')
        .addColumn('n', 'integer')
        .execute();
      const recorder = new SqlTrackingRecorder({ datastore: sqlite });
      const projection = {
        name: `orders-${randomUUID()}`,
        // Not idempotent on purpose (one row per Ordered event): a repeat would show as an extra row.
        process: async (
          event: EventOf<TabEvents> & { originatorId: string },
          trx: Parameters<Parameters<SqlTrackingRecorder['processWithTracking']>[1]>[0],
        ) => {
          if (event.type === 'Ordered')
            await trx.insertInto('orders').values({ tab: event.originatorId, n: 1 }).execute();
        },
      };
      const tabs = [Tab.create('Opened', { table: 1 }), Tab.create('Opened', { table: 2 })];
      for (const [i, tab] of tabs.entries()) for (let k = 0; k <= i; k++) tab.order(`item ${k}`);
      for (const tab of tabs) await app.save(tab);

      let runner = app.projection(projection, { recorder }).start();
      await runner.whenCaughtUp();
      const until = async (rows: number) => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const count = (await sqlite.db.selectFrom('orders').selectAll().execute()).length;
          if (count >= rows || Date.now() > deadline) return count;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      expect(await until(3)).toBe(3);
      await runner.stop();

      // More events while it is stopped; a new runner resumes after its tracking, repeating nothing.
      tabs[0]!.order('later');
      await app.save(tabs[0]!);
      runner = app.projection(projection, { recorder }).start();
      await runner.whenCaughtUp();
      expect(await until(4)).toBe(4);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rows = await sqlite.db.selectFrom('orders').select(['tab']).execute();
      expect(rows.map((r) => r.tab).sort()).toEqual(
        [tabs[0]!.id, tabs[0]!.id, tabs[1]!.id, tabs[1]!.id].sort(),
      );
      expect(runner.position).toBe(await store.events.maxNotificationId());
      await runner.stop();
    } finally {
      await sqlite.close();
    }
  }, 120_000);
});
