import { defineSubscriptionSuite, describeIfAvailable } from '@es/testing/conformance';
import { openStore } from '../src/index.js';
import { cassandraAvailable, cassandraUrl, testKeyspace } from './helpers.js';

// The subscription contract (@es/testing) on a Cassandra store with a feed: it plugs into core's
// Subscription through ApplicationRecorder and the log's append signal, as the other backends do.
describeIfAvailable(cassandraAvailable, 'a Cassandra store with a feed', () => {
  const keyspace = testKeyspace('feed_subscription');
  const url = cassandraUrl.replace(/^(cassandra:\/\/[^/?#]+)(\/[^?#]*)?/, `$1/${keyspace}`);
  let close: (() => Promise<void>) | undefined;
  defineSubscriptionSuite({
    name: 'cassandra feed',
    createRecorder: async () => {
      const store = await openStore(url, { feed: true, createTables: true });
      close = async () => {
        try {
          await store.datastore.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
        } finally {
          await store.close();
        }
      };
      return store.events;
    },
    closeRecorder: async () => close?.(),
  });
});
