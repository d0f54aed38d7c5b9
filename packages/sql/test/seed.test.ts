import { SequencedItem } from '@es/core';
import { ExampleApplication, checkSeedScenario, runSeedScenario } from '@es/example';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem } from '../src/index.js';
import { describeEachDialect, uniqueName } from './dialects.js';

describeEachDialect("the seed's usage", (dialect) => {
  // The seed's set-up: settings, a datastore with the integer sequenced item table, connection, tables.
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('seed'));
  const datastore = new SqlDatastore({ settings: dialect.settings(), tables: [table] });

  beforeAll(async () => {
    await datastore.setupConnection();
    await datastore.setupTables();
  });
  afterAll(async () => {
    await datastore.dropTables();
    await datastore.close();
  });

  it('runs as on the in-memory backend, and the events are in the table', async () => {
    const app = new ExampleApplication({
      activeRecordStrategy: new SqlActiveRecordStrategy({
        datastore,
        table,
        sequencedItemClass: SequencedItem,
      }),
    });
    let id: string;
    try {
      const report = await runSeedScenario(app);
      expect(checkSeedScenario(report)).toEqual([]);
      id = report.entityId;
    } finally {
      await app.close();
    }

    // Stored in SQL, not in memory: the rows, and a fresh strategy on a fresh connection, say so.
    const rows = await datastore.db
      .selectFrom(table.tableName)
      .select(['sequence_id', 'position', 'topic'])
      .orderBy('id')
      .execute();
    expect(rows.map((r) => [String(r.sequence_id), Number(r.position), r.topic])).toEqual([
      [id, 0, 'example.Example.Created'],
      [id, 1, 'example.Example.AttributeChanged'],
      [id, 2, 'example.Example.Discarded'],
    ]);
    const other = new SqlDatastore({ settings: dialect.settings(), tables: [table] });
    try {
      const strategy = new SqlActiveRecordStrategy({ datastore: other, table });
      expect((await strategy.getItems(id)).map((i) => i.position)).toEqual([0, 1, 2]);
    } finally {
      await other.close();
    }
  });
});
