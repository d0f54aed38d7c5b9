import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SequencedItem } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import { BoundFeed } from '../src/bound-feed.js';
import { BoundTable } from '../src/bound-table.js';
import { type CassandraDatastore, CqlIntegerSequencedItem } from '../src/index.js';
import { Child, feedStore } from './feed-helpers.js';
import { cassandraAvailable, cassandraUrl, dropAndClose, openDatastore, testKeyspace } from './helpers.js';

// The sequencer as its own process (the package's bin, src/feed-sequencer-cli.ts): it leads, copies
// appends made elsewhere, and on SIGTERM stops and releases its lease.

describeIfAvailable(cassandraAvailable, 'es-cassandra-feed-sequencer, the sequencer as a process', () => {
  const keyspace = testKeyspace('feed_cli');
  const table = CqlIntegerSequencedItem.withTableName('cli_events').withFeed();
  let datastore: CassandraDatastore;
  let child: Child | undefined;

  beforeAll(async () => {
    datastore = await openDatastore(keyspace, [table]);
  }, 120_000);
  afterAll(async () => {
    child?.process.kill('SIGKILL');
    await dropAndClose(datastore);
  }, 120_000);

  it('leads, copies what another process appends, and releases its lease on SIGTERM', async () => {
    const url = cassandraUrl.replace(/^(cassandra:\/\/[^/?#]+)(\/[^?#]*)?/, `$1/${keyspace}`);
    child = new Child(
      url,
      ['--table', 'cli_events'],
      {},
      path.join(__dirname, '../src/feed-sequencer-cli.ts'),
    );
    await child.waitFor(/^feed sequencer: leading$/, 60_000);
    const store = feedStore(datastore, table);
    const id = randomUUID();
    await store.append([0, 1, 2].map((p) => new SequencedItem(id, p, 'cli.Test', '{}')));
    const deadline = Date.now() + 20_000;
    while ((await store.selectNotifications(1, 10)).length < 3 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await store.selectNotifications(1, 10)).map((n) => `${n.sequenceId}/${n.position}`)).toEqual(
      [0, 1, 2].map((p) => `${id}/${p}`),
    );
    const feed = new BoundFeed(new BoundTable(datastore.session, table));
    expect(await feed.leaseHolder()).toBeDefined();
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.lines.at(-1)).toBe('feed sequencer: stopped, lease released');
    expect(await feed.leaseHolder()).toBeUndefined();
  }, 120_000);
});
