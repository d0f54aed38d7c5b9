/**
 * Tracking records are written by lightweight transaction (the coordinator's Paxos ballot is their write
 * timestamp); forgetting them must not depend on how the client's clock compares with the nodes'. Here the
 * client's own timestamps (the driver's timestamp generator) run a minute off the node's clock, both ways:
 * what a node whose clock is off does to the records it coordinates, seen from the other side. A ring
 * test with a real node's clock skewed was written and is held back (docs/reliability.md, (l)).
 */
import { AlreadyProcessedError, OutcomeUnknownError } from '@es/core';
import { errors, policies, types } from 'cassandra-driver';
import { CassandraDatastore, CassandraTrackingRecorder } from '../src/index.js';
import { cassandraAvailable, dropAndClose, testKeyspace, testSettings } from './helpers.js';
import { hookedSession } from './feed-helpers.js';
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

  const rowsOf = async (name: string) =>
    (
      await setup.client.execute(
        `SELECT notification_id FROM ${keyspace}.tracking WHERE application_name = ?`,
        [name],
        { prepare: true, consistency: types.consistencies.serial },
      )
    ).rows.map((row) => Number(row['notification_id']));

  it('a fence row left behind (a deleteTracking interrupted between its two steps) reads as nothing tracked, does not stop recording, and the next deleteTracking removes it with the records', async () => {
    const recorder = new CassandraTrackingRecorder({ datastore: setup });
    const name = 'leftover';
    await recorder.processWithTracking({ applicationName: name, notificationId: 4 }, () => undefined);
    await setup.client.execute(
      `INSERT INTO ${keyspace}.tracking (application_name, notification_id) VALUES (?, 0) IF NOT EXISTS`,
      [name],
      { prepare: true },
    );
    expect(await rowsOf(name)).toEqual([4, 0]); // newest first: the table clusters by id descending
    expect(await recorder.maxTrackingId(name)).toBe(4);
    await recorder.processWithTracking({ applicationName: name, notificationId: 5 }, () => undefined);
    await recorder.deleteTracking(name);
    expect(await rowsOf(name)).toEqual([]);
    expect(await recorder.maxTrackingId(name)).toBe(0);
  }, 60_000);

  it('three deleteTracking of one name at once: each resolves or fails typed, and nothing is left, fence included', async () => {
    const recorder = new CassandraTrackingRecorder({ datastore: setup });
    const name = 'concurrent';
    for (const notificationId of [1, 2, 3])
      await recorder.processWithTracking({ applicationName: name, notificationId }, () => undefined);
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => recorder.deleteTracking(name)));
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toHaveProperty('kind');
    }
    expect(outcomes.some((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(await rowsOf(name)).toEqual([]);
  }, 60_000);

  it('a deleteTracking step whose outcome is unknown (a write timeout after it applied) is run again, not reported as nothing written; timeouts on every try end in OutcomeUnknownError', async () => {
    const name = 'timeouts';
    await new CassandraTrackingRecorder({ datastore: setup }).processWithTracking(
      { applicationName: name, notificationId: 9 },
      () => undefined,
    );
    let failures = 1;
    const timeout = () =>
      new errors.ResponseError(types.responseErrorCodes.writeTimeout, 'Operation timed out');
    const flaky = new CassandraTrackingRecorder({
      session: hookedSession(setup, async (_queries, send) => {
        const result = await send();
        if (failures > 0) {
          failures -= 1;
          throw timeout();
        }
        return result;
      }),
    });
    await flaky.deleteTracking(name);
    expect(failures).toBe(0);
    expect(await rowsOf(name)).toEqual([]);

    failures = Number.POSITIVE_INFINITY;
    await expect(flaky.deleteTracking(name)).rejects.toBeInstanceOf(OutcomeUnknownError);
  }, 60_000);
});
