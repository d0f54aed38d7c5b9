import { randomUUID } from 'node:crypto';
import { SequencedItem, StoreClosedError } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  type CassandraDatastore,
  type CqlClient,
  type CqlSession,
  FeedSequencer,
} from '../src/index.js';
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

// The lease is a lightweight transaction (several round trips): a leader renews it when a third of it
// has passed, not before every pass, and still stops passing once a renewal finds it lost.
describeIfAvailable(cassandraAvailable, "a FeedSequencer's lease", () => {
  const keyspace = testKeyspace('feed_lease');
  const renewal = feedTable('lease_renewal');
  const lost = feedTable('lease_lost');
  let datastore: CassandraDatastore;
  beforeAll(async () => {
    datastore = await openDatastore(keyspace, [renewal, lost]);
  }, 120_000);
  afterAll(() => dropAndClose(datastore), 120_000);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A session over the datastore's client that records every claim of the lease (its conditional writes). */
  function countingClaims(ds: CassandraDatastore): { session: CqlSession; claims: string[] } {
    const real = ds.client;
    const claims: string[] = [];
    const client: CqlClient = {
      execute: ((query: string, ...rest: unknown[]) => {
        if (query.includes("name = 'lease' IF") || query.includes("('lease', ?) IF NOT EXISTS"))
          claims.push(query);
        return (real.execute as (...args: unknown[]) => unknown)(query, ...rest);
      }) as CqlClient['execute'],
      batch: real.batch.bind(real) as CqlClient['batch'],
    };
    return { session: { client, keyspace: ds.settings.keyspace, settings: ds.settings }, claims };
  }

  it('a leader claims the lease once for many passes while a third of it has not passed', async () => {
    const table = renewal;
    const { session, claims } = countingClaims(datastore);
    const store = new CassandraActiveRecordStrategy({ datastore, table });
    const sequencer = new FeedSequencer({ table, session, leaseSeconds: 60, pollIntervalMs: 10 });
    const passes = jest.spyOn(sequencer, 'runOnce');
    sequencer.start();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const id = randomUUID();
        ids.push(id);
        await store.append([new SequencedItem(id, 0, 'feed.Test', '{}')]);
      }
      await expectFeedExactSoon(store, ids);
      // A pass at every poll (10 ms) while leading, whether or not anything was appended.
      const deadline = Date.now() + 20_000;
      while (passes.mock.calls.length < 20 && Date.now() < deadline) await sleep(20);
      expect(sequencer.isLeading).toBe(true);
      expect(passes.mock.calls.length).toBeGreaterThanOrEqual(20);
      // One claim, or two if one's outcome was unknown on a loaded machine: not one per pass.
      expect(claims.length).toBeGreaterThanOrEqual(1);
      expect(claims.length).toBeLessThanOrEqual(2);
    } finally {
      await sequencer.stop();
    }
  }, 60_000);

  it('a leader renews when a third of the lease has passed, and stops passing once a renewal finds it held by another', async () => {
    const table = lost;
    const { session, claims } = countingClaims(datastore);
    const sequencer = new FeedSequencer({ table, session, leaseSeconds: 3, pollIntervalMs: 20 });
    const passes = jest.spyOn(sequencer, 'runOnce');
    sequencer.start();
    try {
      const deadline = Date.now() + 20_000;
      while (claims.length < 3 && Date.now() < deadline) await sleep(50);
      expect(sequencer.isLeading).toBe(true);
      expect(claims.length).toBeGreaterThanOrEqual(3); // renewed, every second with a 3 s lease
      // Another holder takes the row (as a standby would once the lease lapsed).
      const state = `${datastore.settings.keyspace}.${table.feedStateTableName}`;
      const taken = await datastore.client.execute(
        `UPDATE ${state} USING TTL 60 SET holder = 'another' WHERE name = 'lease' IF holder = ?`,
        [sequencer.holder],
        { prepare: true },
      );
      expect(taken.wasApplied()).toBe(true);
      while (sequencer.isLeading && Date.now() < deadline) await sleep(20);
      expect(sequencer.isLeading).toBe(false);
      const before = passes.mock.calls.length;
      await sleep(1500); // more than the renewal interval: a standby claims at every poll, and fails
      expect(passes.mock.calls.length).toBe(before);
      expect(sequencer.isLeading).toBe(false);
    } finally {
      await sequencer.stop();
    }
  }, 60_000);
});

async function expectFeedExactSoon(
  store: CassandraActiveRecordStrategy<SequencedItem, 'integer', true>,
  ids: readonly string[],
): Promise<void> {
  const deadline = Date.now() + 20_000;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = (await store.selectNotifications(1, 1000)).map((n) => n.sequenceId);
    if (seen.length >= ids.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect([...seen].sort()).toEqual([...ids].sort());
}
