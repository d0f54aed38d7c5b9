import { defineActiveRecordStrategySuite, describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  type CassandraDatastore,
  CqlIntegerSequencedItem,
  CqlTimestampSequencedItem,
} from '../src/index.js';
import { cassandraAvailable, dropAndClose, openDatastore, testKeyspace } from './helpers.js';

// A small bucket, so that the suite's sequences (up to 10,500 items, appended 1,000 at a time) cross
// hundreds of partition boundaries. Timestamp tables keep their one-day buckets: the suite appends
// timestamps up to a second apart in one batch, and a batch must lie in one bucket.
const BUCKET_SIZE = 8;

describeIfAvailable(cassandraAvailable, `Cassandra (integer bucket size ${BUCKET_SIZE})`, () => {
  let datastore: CassandraDatastore | undefined;
  let tables = 0;

  beforeAll(async () => {
    datastore = await openDatastore(testKeyspace('conformance'), []);
  }, 120_000);
  afterAll(() => dropAndClose(datastore), 120_000);

  const timestampStore = async (options: { sequenceIdKind?: 'uuid' | 'string'; maxItemBytes?: number }) => {
    tables += 1;
    const table = CqlTimestampSequencedItem.withTableName(`items_${tables}`);
    const setup = await openDatastore(datastore!.settings.keyspace, [table]);
    await setup.close();
    return new CassandraActiveRecordStrategy({ table, datastore: datastore!, ...options });
  };

  defineActiveRecordStrategySuite({
    name: 'cassandra',
    // Each store gets a table of its own, so that stores are independent.
    createStrategy: async ({ positionKind, sequenceIdKind, maxItemBytes }) => {
      const options = {
        ...(sequenceIdKind ? { sequenceIdKind } : {}),
        ...(maxItemBytes ? { maxItemBytes } : {}),
      };
      if (positionKind === 'timestamp') return timestampStore(options);
      tables += 1;
      const table = CqlIntegerSequencedItem.withTableName(`items_${tables}`).withBucketSize(BUCKET_SIZE);
      const setup = await openDatastore(datastore!.settings.keyspace, [table]);
      await setup.close();
      return new CassandraActiveRecordStrategy({ table, datastore: datastore!, ...options });
    },
    notifications: false,
    contiguous: true,
  });

  // The same stores with a feed: the notification log's tests too. Log partitions of 16 ids, so that
  // the suite's 1,000-item batches cross dozens of them. `catchUpOnRead`: each log read first runs a
  // sequencer pass, so that it sees every append acknowledged before it (the suite's contract).
  defineActiveRecordStrategySuite({
    name: 'cassandra with a feed',
    createStrategy: async ({ positionKind, sequenceIdKind, maxItemBytes }) => {
      const options = {
        ...(sequenceIdKind ? { sequenceIdKind } : {}),
        ...(maxItemBytes ? { maxItemBytes } : {}),
      };
      if (positionKind === 'timestamp') return timestampStore(options);
      tables += 1;
      const table = CqlIntegerSequencedItem.withTableName(`feed_${tables}`)
        .withBucketSize(BUCKET_SIZE)
        .withFeed({ shards: 4, logBucketSize: 16 });
      const setup = await openDatastore(datastore!.settings.keyspace, [table]);
      await setup.close();
      return new CassandraActiveRecordStrategy({
        table,
        datastore: datastore!,
        catchUpOnRead: true,
        ...options,
      });
    },
    notifications: 'integer',
    contiguous: true,
  });
});
