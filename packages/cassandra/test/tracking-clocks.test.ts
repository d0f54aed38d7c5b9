/**
 * Tracking records are written by lightweight transaction (the coordinator's Paxos ballot is their write
 * timestamp); forgetting them must not depend on how the client's clock compares with the nodes'. Here the
 * client's own timestamps (the driver's timestamp generator) run a minute off the node's clock, both ways:
 * what a node whose clock is off does to the records it coordinates, seen from the other side. The ring
 * test (ring/clock-skew.ts) does the same with a real node's clock skewed.
 */
import { AlreadyProcessedError } from '@es/core';
import { policies, types } from 'cassandra-driver';
import { CassandraDatastore, CassandraTrackingRecorder } from '../src/index.js';
import { cassandraAvailable, dropAndClose, testKeyspace, testSettings } from './helpers.js';
import { describeIfAvailable } from '@es/testing/conformance';

/** The driver's client-side write timestamps (its default generator), `offsetMs` off this process's clock. */
function offsetTimestamps(offsetMs: number): policies.timestampGeneration.TimestampGenerator {
  return new (class extends policies.timestampGeneration.MonotonicTimestampGenerator {
    override getDate(): number {
      return Date.now() + offsetMs;
    }
  })(1000, 0);
}

describeIfAvailable(cassandraAvailable, 'Cassandra tracking with clocks apart', () => {
  const keyspace = testKeyspace('trackclock');
  let setup: CassandraDatastore;
  const open = async (offsetMs: number) => {
    const datastore = new CassandraDatastore({
      settings: testSettings({ keyspace }),
      clientOptions: { policies: { timestampGeneration: offsetTimestamps(offsetMs) } },
    });
    await datastore.setupConnection();
    return datastore;
  };

  beforeAll(async () => {
    setup = new CassandraDatastore({ settings: testSettings({ keyspace }) });
    await setup.setupConnection();
    await setup.setupTables();
    await new CassandraTrackingRecorder({ datastore: setup }).setupTable();
  }, 120_000);
  afterAll(() => dropAndClose(setup), 120_000);

  it('deleteTracking forgets records written while the client clock is a minute behind the nodes (a coordinator ahead): a rebuilt read model gets every notification again', async () => {
    const behind = await open(-60_000);
    try {
      const recorder = new CassandraTrackingRecorder({ datastore: behind });
      const name = 'behind';
      for (const notificationId of [1, 2, 3])
        await recorder.processWithTracking({ applicationName: name, notificationId }, () => undefined);
      expect(await recorder.maxTrackingId(name)).toBe(3);
      await recorder.deleteTracking(name);
      // A plain DELETE took the client's timestamp, a minute older than the records' ballots: it deleted
      // nothing, and a rebuild would have skipped notifications 1 to 3.
      expect(await recorder.maxTrackingId(name)).toBe(0);
      let ran = 0;
      await recorder.processWithTracking({ applicationName: name, notificationId: 1 }, () => {
        ran += 1;
      });
      expect(ran).toBe(1);
      expect(await recorder.maxTrackingId(name)).toBe(1);
    } finally {
      await behind.close();
    }
  }, 60_000);

  it('records written after deleteTracking by a client whose clock is a minute ahead (a coordinator behind) stay: tracking stays exactly-once', async () => {
    const ahead = await open(60_000);
    try {
      const recorder = new CassandraTrackingRecorder({ datastore: ahead });
      const name = 'ahead';
      await recorder.processWithTracking({ applicationName: name, notificationId: 1 }, () => undefined);
      await recorder.deleteTracking(name);
      // A plain DELETE's tombstone a minute in the future hid every record written in that minute: the
      // same notification was recorded (and its effects run) again and again.
      let ran = 0;
      await recorder.processWithTracking({ applicationName: name, notificationId: 7 }, () => {
        ran += 1;
      });
      await expect(
        recorder.processWithTracking({ applicationName: name, notificationId: 7 }, () => {
          ran += 1;
        }),
      ).rejects.toBeInstanceOf(AlreadyProcessedError);
      expect(ran).toBe(1);
      expect(await recorder.maxTrackingId(name)).toBe(7);
      // Forgetting twice in a row, and once more with nothing to forget, leaves nothing behind.
      await recorder.deleteTracking(name);
      await recorder.deleteTracking(name);
      expect(await recorder.maxTrackingId(name)).toBe(0);
      const rows = await setup.client.execute(
        `SELECT notification_id FROM ${keyspace}.tracking WHERE application_name = ?`,
        [name],
        { prepare: true, consistency: types.consistencies.serial },
      );
      expect(rows.rows).toEqual([]);
    } finally {
      await ahead.close();
    }
  }, 60_000);
});
