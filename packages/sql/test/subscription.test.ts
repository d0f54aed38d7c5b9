import { defineSubscriptionSuite } from '@es/testing/conformance';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem } from '../src/index.js';
import { describeEachDialect, uniqueName } from './dialects.js';

describeEachDialect('live subscriptions', (dialect) => {
  const events = SqlIntegerSequencedItem.withTableName(uniqueName('subscribed_events'));
  let datastore: SqlDatastore;
  defineSubscriptionSuite({
    name: dialect.name,
    createRecorder: async () => {
      datastore = new SqlDatastore({ settings: dialect.settings(), tables: [events] });
      await datastore.setupTables();
      return new SqlActiveRecordStrategy({ datastore, table: events });
    },
    closeRecorder: async () => {
      try {
        await datastore.dropTables();
      } finally {
        await datastore.close();
      }
    },
  });
});
