import { randomUUID } from 'node:crypto';
import { SequencedItem, StoreClosedError } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import { CassandraActiveRecordStrategy, type CassandraDatastore, FeedSequencer } from '../src/index.js';
import { feedTable } from './feed-helpers.js';
import { cassandraAvailable, dropAndClose, openDatastore, testKeyspace } from './helpers.js';

// A sequencer that cannot work must say so, and one whose datastore was closed must stop: it would
// otherwise fail every poll interval, silently, and keep the process alive.
describeIfAvailable(cassandraAvailable, 'a FeedSequencer that fails', () => {
  const keyspace = testKeyspace('feed_sequencer');
  let cleanup: CassandraDatastore | undefined;
  afterAll(() => dropAndClose(cleanup), 120_000);

  it('reports a failing pass as a process warning by default, once per distinct error, and stops when its datastore is closed', async () => {
    const table = feedTable('sequencer_errors');
    cleanup = await openDatastore(keyspace, [table]);
    const datastore = await openDatastore(keyspace, [table]);
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      await new CassandraActiveRecordStrategy({ datastore, table }).append([
        new SequencedItem(randomUUID(), 0, 'feed.Test', '{}'),
      ]);
      const sequencer = new FeedSequencer({ table, datastore, pollIntervalMs: 20 });
      sequencer.start();
      expect(sequencer.isRunning).toBe(true);
      await datastore.close();
      const deadline = Date.now() + 20_000;
      while (sequencer.isRunning && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(sequencer.isRunning).toBe(false);
      expect(sequencer.lastError).toBeInstanceOf(StoreClosedError);
      const warnings = emitWarning.mock.calls.map(([message]) => String(message));
      expect(warnings).toEqual([expect.stringMatching(/FeedSequencer: a pass failed .*StoreClosedError/)]);
      await sequencer.stop(); // stopping a loop that ended is harmless
    } finally {
      emitWarning.mockRestore();
    }
  }, 60_000);
});
