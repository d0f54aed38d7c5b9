import { describeIfAvailable } from '@es/testing/conformance';
import {
  Aggregate,
  Application,
  type EventOf,
  type Notification,
  hasNotificationLog,
  openStore as openAnyStore,
} from '@es/core';
import { openStore } from '../src/index.js';
import { cassandraAvailable, cassandraUrl, testKeyspace } from './helpers.js';

type TabEvents = { Opened: { table: number }; Ordered: { item: string } };
class Tab extends Aggregate<TabEvents> {
  static readonly topic = 'cassandra.test.Tab';
  table = 0;
  items: string[] = [];
  order(item: string): void {
    this.trigger('Ordered', { item });
  }
  protected apply(event: EventOf<TabEvents>): void {
    if (event.type === 'Opened') this.table = event.table;
    else this.items.push(event.item);
  }
}

describeIfAvailable(cassandraAvailable, 'a store opened from one URL', () => {
  const keyspace = testKeyspace('store');
  // The tests' node URL with this file's keyspace in its path.
  const url = cassandraUrl.replace(/^(cassandra:\/\/[^/?#]+)(\/[^?#]*)?/, `$1/${keyspace}`);

  afterAll(async () => {
    const store = await openStore(url);
    try {
      await store.datastore.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    } finally {
      await store.close();
    }
  });

  it('an application over it creates the keyspace and tables on request, saves and reads back', async () => {
    // Through @es/core's openStore: the URL alone chooses @es/cassandra, which is loaded only then.
    await using app = await Application.open({
      store: await openAnyStore(url, { createTables: true }),
      aggregates: [Tab],
    });
    const tab = Tab.create('Opened', { table: 2 });
    tab.order('coffee');
    await app.save(tab);
    const copy = await app.get(Tab, tab.id);
    expect([copy.table, copy.items]).toEqual([2, ['coffee']]);
  });

  // A keyspace of their own: a table created without a feed is refused to a store with one.
  const feedKeyspace = testKeyspace('store_feed');
  const feedUrl = cassandraUrl.replace(/^(cassandra:\/\/[^/?#]+)(\/[^?#]*)?/, `$1/${feedKeyspace}`);
  afterAll(async () => {
    const store = await openStore(feedUrl);
    try {
      await store.datastore.client.execute(`DROP KEYSPACE IF EXISTS ${feedKeyspace}`);
    } finally {
      await store.close();
    }
  });

  it('with ?feed=true, its events keep the notification log, which the sequencer it runs fills', async () => {
    const store = await openAnyStore(`${feedUrl}${feedUrl.includes('?') ? '&' : '?'}feed=true`, {
      createTables: true,
    });
    await using app = await Application.open({ store, aggregates: [Tab] });
    expect(hasNotificationLog(store.events)).toBe(true);
    const tab = Tab.create('Opened', { table: 3 });
    tab.order('tea');
    await app.save(tab);
    // The sequencer in this process copies the append into the log, usually within one poll.
    const seen: Notification[] = [];
    const deadline = Date.now() + 20_000;
    while (seen.length < 2 && Date.now() < deadline) {
      seen.length = 0;
      for await (const n of app.notificationLog!.read()) if (n.sequenceId === tab.id) seen.push(n);
      if (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen.map((n) => n.position)).toEqual([0, 1]);
    expect(seen[1]!.id).toBe(seen[0]!.id + 1);
  });

  it('its own openStore types a store with a feed as an ApplicationRecorder, and one without it runs no sequencer', async () => {
    const withFeed = await openStore(feedUrl, { feed: true, sequencer: false, createTables: true });
    const plain = await openStore(url);
    try {
      // A writer without the feed on the feed's table would leave appends the log never gets: refused.
      const wrong = await openStore(feedUrl);
      await expect(wrong.events.getItems(crypto.randomUUID())).rejects.toThrow(/feed_shards=8/);
      await wrong.close();
      expect(await withFeed.events.maxNotificationId()).toBeGreaterThanOrEqual(0); // typed: a log
      expect([withFeed.sequencer, plain.sequencer]).toEqual([undefined, undefined]);
      expect(hasNotificationLog(plain.events)).toBe(false);
    } finally {
      await withFeed.close();
      await plain.close();
    }
  });
});
