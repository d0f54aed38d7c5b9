import { randomUUID } from 'node:crypto';
import { NotSupportedError, type ProcessRecorder, SequencedItem } from '@es/core';
import { isProcessRecorder } from '@es/core/backend';
import { defineProcessRecorderSuite } from '@es/testing/conformance';
import type { Transaction } from 'kysely';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlTracking } from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

describeEachDialect('the SQL store as a process recorder', (dialect) => {
  const events = SqlIntegerSequencedItem.withTableName(uniqueName('process_events'));
  const tracking = SqlTracking.withTableName(uniqueName('process_tracking'));
  const readModel = uniqueName('process_read_model');
  let datastore: SqlDatastore;

  defineProcessRecorderSuite<Transaction<any>>({
    name: dialect.name,
    createRecorder: async () => {
      datastore = new SqlDatastore({ settings: dialect.settings(), tables: [events, tracking] });
      await datastore.setupTables();
      await datastore.db.schema
        .createTable(readModel)
        .ifNotExists()
        .addColumn('k', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('v', 'integer', (c) => c.notNull())
        .execute();
      const strategy = new SqlActiveRecordStrategy({ datastore, table: events, tracking });
      if (!isProcessRecorder(strategy))
        throw new Error('a strategy with a tracking table is a process recorder');
      return strategy as unknown as ProcessRecorder<SequencedItem, Transaction<any>>;
    },
    closeRecorder: async () => {
      try {
        await datastore.db.schema.dropTable(readModel).ifExists().execute();
        await datastore.dropTables();
      } finally {
        await datastore.close();
      }
    },
    readModel: {
      write: async (trx, k, v) => {
        await trx.deleteFrom(readModel).where('k', '=', k).execute();
        await trx.insertInto(readModel).values({ k, v }).execute();
      },
      read: async (k) => {
        const row = await datastore.db
          .selectFrom(readModel)
          .select('v')
          .where('k', '=', k)
          .executeTakeFirst();
        return row === undefined ? undefined : Number(row.v);
      },
    },
  });

  describe(`${dialect.name}: appends made the wrong way`, () => {
    const events = SqlIntegerSequencedItem.withTableName(uniqueName('process_events'));
    const tracking = SqlTracking.withTableName(uniqueName('process_tracking'));
    const store = useDatastore(dialect, [events, tracking]);
    it('an append() inside processWithTracking is refused (it would not be in the transaction), and nothing is kept', async () => {
      const strategy = new SqlActiveRecordStrategy({ datastore: store(), table: events, tracking });
      const app = `app-${randomUUID()}`;
      const id = randomUUID();
      await expect(
        strategy.processWithTracking({ applicationName: app, notificationId: 1 }, () =>
          strategy.append(new SequencedItem(id, 0, 'topic', '{}')),
        ),
      ).rejects.toBeInstanceOf(NotSupportedError);
      expect(await strategy.maxTrackingId(app)).toBe(0);
      expect(await strategy.getItems(id)).toEqual([]);
      // Outside it, append works and raises the log's signal.
      const before = strategy.appended!.count;
      await strategy.append(new SequencedItem(id, 0, 'topic', '{}'));
      expect(strategy.appended!.count).toBe(before + 1);
    });

    it('a strategy without a tracking table is no process recorder', () => {
      const strategy = new SqlActiveRecordStrategy({ datastore: store(), table: events });
      expect(isProcessRecorder(strategy as never)).toBe(false);
    });
  });
});
