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

  defineActiveRecordStrategySuite({
    name: 'cassandra',
    // Each store gets a table of its own, so that stores are independent.
    createStrategy: async ({ positionKind, sequenceIdKind, maxItemBytes }) => {
      tables += 1;
      const table =
        positionKind === 'integer'
          ? CqlIntegerSequencedItem.withTableName(`items_${tables}`).withBucketSize(BUCKET_SIZE)
          : CqlTimestampSequencedItem.withTableName(`items_${tables}`);
      const setup = await openDatastore(datastore!.settings.keyspace, [table]);
      await setup.close();
      return new CassandraActiveRecordStrategy({
        table,
        datastore: datastore!,
        ...(sequenceIdKind ? { sequenceIdKind } : {}),
        ...(maxItemBytes ? { maxItemBytes } : {}),
      });
    },
    notifications: false,
    contiguous: true,
  });
});
