import type { AggregateRecorder } from '@es/core';
import { defineActiveRecordStrategySuite } from '@es/testing/conformance';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlTimestampSequencedItem,
} from '../src/index.js';
import { describeEachDialect, uniqueName } from './dialects.js';

describeEachDialect('the conformance suite of @es/testing', (dialect) => {
  // Every strategy the suite asks for gets a table (and a datastore) of its own, dropped afterwards.
  const datastores = new Map<AggregateRecorder, SqlDatastore>();

  defineActiveRecordStrategySuite({
    name: dialect.name,
    notifications: true,
    contiguous: true,
    createStrategy: async ({ positionKind, sequenceIdKind, maxItemBytes }) => {
      const table =
        positionKind === 'integer'
          ? SqlIntegerSequencedItem.withTableName(uniqueName('conformance'))
          : SqlTimestampSequencedItem.withTableName(uniqueName('conformance_ts'));
      const datastore = new SqlDatastore({ settings: dialect.settings(), tables: [table] });
      await datastore.setupTables();
      const strategy = new SqlActiveRecordStrategy({ datastore, table, sequenceIdKind, maxItemBytes });
      datastores.set(strategy, datastore);
      return strategy;
    },
    closeStrategy: async (strategy) => {
      const datastore = datastores.get(strategy)!;
      datastores.delete(strategy);
      try {
        await datastore.dropTables();
      } finally {
        await datastore.close();
      }
    },
  });
});
