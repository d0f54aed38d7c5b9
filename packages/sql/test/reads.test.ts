import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SequencedItem } from '@es/core';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '../src/index.js';

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
    } finally {
      await datastore.close();
    }
  });
});
