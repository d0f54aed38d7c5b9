import { Aggregate, Application, type EventOf, openStore as openAnyStore } from '@es/core';
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

(cassandraAvailable ? describe : describe.skip)('a store opened from one URL', () => {
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
});
