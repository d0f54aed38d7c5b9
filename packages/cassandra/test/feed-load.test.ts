import { randomUUID } from 'node:crypto';
import { describeIfAvailable } from '@es/testing/conformance';
import { type CassandraDatastore, FeedSequencer } from '../src/index.js';
import { Child, REQUEST_TIMEOUT_MS, expectFeedExact, feedStore, feedTable, follow } from './feed-helpers.js';
import {
  cassandraAvailable,
  dropAndClose,
  openDatastore,
  openShortTimeoutDatastore,
  testKeyspace,
} from './helpers.js';

// A follower of the feed while 4 writer processes append single items and batches (1-5 items) to a
// sequence of their own each and to two shared ones (so that some appends lose their race and must
// leave no trace), with the sequencer running in this process as an application would run it.

describeIfAvailable(cassandraAvailable, 'a follower of the feed under 4 writer processes', () => {
  const keyspace = testKeyspace('feed_load');
  let datastore: CassandraDatastore;
  const children: Child[] = [];

  beforeAll(async () => {
    await (await openDatastore(keyspace, [feedTable('load')])).close();
    datastore = await openShortTimeoutDatastore(keyspace, REQUEST_TIMEOUT_MS);
  }, 120_000);
  afterAll(async () => {
    for (const child of children) child.process.kill('SIGKILL');
    await dropAndClose(datastore);
  }, 120_000);

  it('sees every acknowledged event exactly once, in id order without a hole', async () => {
    const table = feedTable('load');
    const store = feedStore(datastore, table);
    const shared = [randomUUID(), randomUUID()];
    const own = [1, 2, 3, 4].map(() => randomUUID());
    const env = { ES_FEED_KEYSPACE: keyspace, ES_FEED_TABLE: table.tableName };
    const sequencer = new FeedSequencer({ table, datastore, pollIntervalMs: 50 });
    sequencer.start();
    const follower = follow(store);
    try {
      const started = Date.now();
      const writers = own.map((id) => new Child('writer', ['40', id, shared[0]!, id, shared[1]!], env));
      children.push(...writers);
      const lines = await Promise.all(writers.map((w) => w.waitFor(/^DONE$|^EXIT/, 150_000)));
      expect(lines).toEqual(['DONE', 'DONE', 'DONE', 'DONE']);
      const written = Date.now() - started;
      const acknowledged = writers.flatMap((w) => w.acknowledged);
      // An append that timed out (this loaded machine) is not acknowledged: it may or may not be stored,
      // and expectFeedExact below holds the feed to what the sequences hold either way.
      const unknown = writers.flatMap((w) => w.lines.filter((line) => line.startsWith('ERROR'))).length;
      // The follower catches up with the running sequencer (no catch-up on read here).
      const want = new Set(acknowledged);
      const deadline = Date.now() + 30_000;
      const caught = () => new Set(follower.seen.map((n) => `${n.sequenceId}/${n.position}`));
      while ([...want].some((k) => !caught().has(k)) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const seen = await follower.stop();
      const keys = seen.map((n) => `${n.sequenceId}/${n.position}`);
      expect(seen.map((n) => n.id)).toEqual(seen.map((_, i) => i + 1));
      expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
      expect(acknowledged.filter((k) => !keys.includes(k))).toEqual([]);
      const full = await expectFeedExact(store, [...own, ...shared], acknowledged);
      expect(seen).toEqual(full.slice(0, seen.length));
      expect(acknowledged.length).toBeGreaterThan(200);
      console.log(
        `feed under 4 writer processes: ${acknowledged.length} acknowledged items in ${written} ms (${unknown} appends timed out), all followed`,
      );
    } finally {
      await follower.stop();
      await sequencer.stop();
    }
  }, 240_000);
});
