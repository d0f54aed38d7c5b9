import { Aggregate, Application, type EventOf, MissingTableError, openStore as openAnyStore } from '@es/core';
import { openStore } from '../src/index.js';
import { describeEachDialect, uniqueName } from './dialects.js';

type TabEvents = { Opened: { table: number }; Ordered: { item: string } };
class Tab extends Aggregate<TabEvents> {
  static readonly topic = 'sql.test.Tab';
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

describeEachDialect('a store opened from one URL', (dialect) => {
  const tableNames = {
    events: uniqueName('events'),
    snapshots: uniqueName('snapshots'),
    tracking: uniqueName('tracking'),
  };

  afterAll(async () => {
    const store = await openStore(dialect.url, { tableNames });
    try {
      await store.datastore.dropTables();
    } finally {
      await store.close();
    }
  });

  it('an application over it creates its tables on request, saves aggregates and reads them back', async () => {
    // Through @es/core's openStore: the URL alone chooses @es/sql, which is loaded only then.
    const store = await openAnyStore(dialect.url, { createTables: true, tableNames } as never);
    await using app = await Application.open({ store, aggregates: [Tab] });
    const tab = Tab.create('Opened', { table: 4 });
    tab.order('tea');
    await app.save(tab);
    const copy = await app.get(Tab, tab.id);
    expect([copy.table, copy.items]).toEqual([4, ['tea']]);
    expect(await app.notificationLog!.maxNotificationId()).toBeGreaterThanOrEqual(2);
  });

  it('without createTables, a missing table is refused', async () => {
    const store = await openStore(dialect.url, { tableNames: { events: uniqueName('missing') } });
    await using app = await Application.open({ store, aggregates: [Tab] });
    const outcome = await app.save(Tab.create('Opened', { table: 1 })).then(
      () => 'saved',
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(MissingTableError);
    expect((outcome as Error).message).toMatch(
      /call setupTables\(\) on its datastore once, or open the store with \{ createTables: true \}/,
    );
  });
});
