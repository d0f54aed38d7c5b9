import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotificationItem, SequencedItem } from '@es/core';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

describeEachDialect('reads take their rows as arrays', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('array_rows'));
  const datastore = useDatastore(dialect, [table]);

  it("a read's rows are arrays of cells in the select list's order, not an object per row", async () => {
    const id = randomUUID();
    const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table });
    await strategy.append([
      new SequencedItem(id, 0, 'a.T', '{"n":0}'),
      new SequencedItem(id, 1, 'b.T', '{}'),
    ]);
    const sql = datastore()
      .db.selectFrom(table.tableName)
      .select(['topic', 'position', 'data'])
      .where('sequence_id', '=', id)
      .orderBy('position')
      .compile().sql;
    const rows = await datastore().use((connection) => connection.select(sql, [id]));
    expect(rows.map(([topic, position, data]) => [topic, Number(position), data])).toEqual([
      ['a.T', 0, '{"n":0}'],
      ['b.T', 1, '{}'],
    ]);
    // And what the strategy makes of them.
    expect(await strategy.getItems(id)).toEqual([
      new SequencedItem(id, 0, 'a.T', '{"n":0}'),
      new SequencedItem(id, 1, 'b.T', '{}'),
    ]);
    const log = await strategy.selectNotifications(1, 10);
    expect(log.map(({ sequenceId, position, topic }) => [sequenceId, position, topic])).toEqual([
      [id, 0, 'a.T'],
      [id, 1, 'b.T'],
    ]);
    // Each notification is its own sequenced item: a log reader decodes it without a copy.
    for (const n of log) expect(n).toBeInstanceOf(NotificationItem);
    expect(await strategy.maxNotificationId()).toBe(log[1]!.id);
  });
});

// SQLite in process: these need no server.
describe('reads on SQLite (a LIMIT expression, not a bare parameter)', () => {
  const directory = mkdtempSync(join(tmpdir(), 'es-reads-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('a limit bound as a parameter still limits, page by page, in both directions', async () => {
    const settings = new SqlSettings({ url: `sqlite:${join(directory, 'limits.db')}` });
    const table = SqlIntegerSequencedItem.withTableName('limit_items');
    const datastore = new SqlDatastore({ settings, tables: [table] });
    await datastore.setupConnection();
    await datastore.setupTables();
    try {
      const strategy = new SqlActiveRecordStrategy({ datastore, table });
      const id = randomUUID();
      await strategy.append(Array.from({ length: 7 }, (_, p) => new SequencedItem(id, p, 't', '{}')));
      for (const limit of [1, 3, 7, 50]) {
        expect(await strategy.getItems(id, { limit })).toHaveLength(Math.min(limit, 7));
        expect((await strategy.getItems(id, { limit, descending: true }))[0]?.position).toBe(6);
      }
      const pages: number[][] = [];
      for await (const page of strategy.iteratePages(id, { pageSize: 3, limit: 5 }))
        pages.push(page.map((item) => item.position));
      expect(pages).toEqual([
        [0, 1, 2],
        [3, 4],
      ]);
      // Long reads take pages of 5,000 unless told otherwise: each page is a statement.
      expect(strategy.pageSize).toBe(5000);
      const small = new SqlActiveRecordStrategy({ datastore, table, pageSize: 3 });
      const defaultPages: number[][] = [];
      for await (const page of small.iteratePages(id)) defaultPages.push(page.map((item) => item.position));
      expect(defaultPages).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    } finally {
      await datastore.close();
    }
  });
});
