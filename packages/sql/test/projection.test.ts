import type { ProcessRecorder, SequencedItem } from '@es/core';
import { defineProjectionSuite } from '@es/testing/conformance';
import type { Transaction } from 'kysely';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlTracking } from '../src/index.js';
import { describeEachDialect, uniqueName } from './dialects.js';

describeEachDialect('projections', (dialect) => {
  const events = SqlIntegerSequencedItem.withTableName(uniqueName('projected_events'));
  const tracking = SqlTracking.withTableName(uniqueName('projection_tracking'));
  const totals = uniqueName('totals');
  let datastore: SqlDatastore;
  defineProjectionSuite<Transaction<any>>({
    name: dialect.name,
    createRecorder: async () => {
      datastore = new SqlDatastore({ settings: dialect.settings(), tables: [events, tracking] });
      await datastore.setupTables();
      await datastore.db.schema
        .createTable(totals)
        .addColumn('k', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('total', 'bigint', (c) => c.notNull())
        .execute();
      return new SqlActiveRecordStrategy({
        datastore,
        table: events,
        tracking,
      }) as unknown as ProcessRecorder<SequencedItem, Transaction<any>>;
    },
    closeRecorder: async () => {
      try {
        await datastore.db.schema.dropTable(totals).ifExists().execute();
        await datastore.dropTables();
      } finally {
        await datastore.close();
      }
    },
    readModel: {
      add: async (trx, k, points) => {
        const row = await trx.selectFrom(totals).select('total').where('k', '=', k).executeTakeFirst();
        if (row === undefined) await trx.insertInto(totals).values({ k, total: points }).execute();
        else
          await trx
            .updateTable(totals)
            .set({ total: Number(row.total) + points })
            .where('k', '=', k)
            .execute();
      },
      totals: async (keys) => {
        const rows = await datastore.db
          .selectFrom(totals)
          .select(['k', 'total'])
          .where('k', 'in', [...keys])
          .execute();
        return Object.fromEntries(rows.map((r) => [r.k, Number(r.total)]));
      },
      reset: async (trx) => {
        await trx.deleteFrom(totals).execute();
      },
    },
  });
});
