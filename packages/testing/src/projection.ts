import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  type Projection,
  ProjectionRunner,
  type ProcessRecorder,
  type SequencedItem,
  SequencedItemMapper,
} from '@es/core';
import { TEST_TIMEOUT, useRecorder } from './context.js';
import { SCORED, Scored, followingTopics } from './following-events.js';

/** A read model of totals by key, written through a transaction's handle. */
export interface TotalsReadModel<H> {
  /** Adds `points` to the total of `key` (creating it at 0). */
  add(handle: H, key: string, points: number): Promise<void> | void;
  /** The committed totals of these keys (a key never added to: absent). */
  totals(keys: readonly string[]): Promise<Record<string, number>>;
  /** Empties the read model, in the rebuild's transaction. */
  reset(handle: H): Promise<void> | void;
}

export interface ProjectionSuiteOptions<H> {
  name: string;
  /** Called once, in `beforeAll`: the store whose log is followed, which also keeps the tracking. */
  createRecorder: () => Promise<ProcessRecorder<SequencedItem, H>>;
  closeRecorder?: (recorder: ProcessRecorder<SequencedItem, H>) => Promise<void>;
  /** The read model, in the recorder's database (in memory: objects of the test's own). */
  readModel: TotalsReadModel<H>;
}

/**
 * The contract of a projection runner over a backend (see @es/core's ProjectionRunner): the read model
 * equals what the log says, after catching up, following live, resuming, a handler that throws, a
 * competing runner, and a rebuild.
 */
export function defineProjectionSuite<H>(options: ProjectionSuiteOptions<H>): void {
  describe(`${options.name}: projection conformance`, () => {
    const mapper = new SequencedItemMapper({ topics: followingTopics });
    const model = options.readModel;
    const r = useRecorder(options);
    /** A stream's next scores, appended one event at a time; returns what they add up to. */
    const versions = new Map<string, number>();
    const score = async (stream: string, points: readonly number[]): Promise<void> => {
      for (const p of points) {
        const v = versions.get(stream) ?? 0;
        await r().append(
          mapper.toSequencedItem(new Scored({ originatorId: stream, originatorVersion: v, points: p })),
        );
        versions.set(stream, v + 1);
      }
    };
    /** The totals the log says, for these streams. */
    const expected = async (streams: readonly string[]): Promise<Record<string, number>> => {
      const totals: Record<string, number> = {};
      for (const n of await r().selectNotifications(1, 1_000_000, { topics: [SCORED] })) {
        if (!streams.includes(n.sequenceId)) continue;
        const { points } = mapper.fromSequencedItem({ ...n } as SequencedItem) as Scored;
        totals[n.sequenceId] = (totals[n.sequenceId] ?? 0) + points;
      }
      return totals;
    };
    const totalsProjection = (
      name: string,
      streams: readonly string[],
      fail?: (e: Scored) => boolean,
    ): Projection<Scored, H> => ({
      name,
      topics: [SCORED],
      process: async (event, handle) => {
        if (fail?.(event)) throw new Error(`refused ${event.originatorId}@${event.originatorVersion}`);
        // Other tests' streams are in the same log: only this test's are counted.
        if (streams.includes(event.originatorId)) await model.add(handle, event.originatorId, event.points);
      },
      reset: (handle) => model.reset(handle),
    });
    const runner = (projection: Projection<Scored, H>) =>
      new ProjectionRunner<Scored, H>({ projection, source: r(), mapper, pageSize: 5, pollIntervalMs: 10 });

    it(
      'catches up, follows live, and its read model equals what the log says',
      async () => {
        const streams = [randomUUID(), randomUUID()];
        await score(streams[0]!, [1, 2, 3]);
        await score(streams[1]!, [10]);
        const name = `totals-${randomUUID()}`;
        await using projection = runner(totalsProjection(name, streams)).start();
        await projection.whenCaughtUp();
        expect(await model.totals(streams)).toEqual({ [streams[0]!]: 6, [streams[1]!]: 10 });
        await score(streams[1]!, [5, 5]);
        const deadline = Date.now() + 10_000;
        while ((await model.totals(streams))[streams[1]!] !== 20 && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 10));
        expect(await model.totals(streams)).toEqual(await expected(streams));
        expect(await r().maxTrackingId(name)).toBe(await r().maxNotificationId());
      },
      TEST_TIMEOUT,
    );

    it(
      'resumes after its tracking record: a new runner neither repeats nor loses an event',
      async () => {
        const streams = [randomUUID()];
        const name = `totals-${randomUUID()}`;
        await score(streams[0]!, [1, 1]);
        const first = runner(totalsProjection(name, streams)).start();
        await first.whenCaughtUp();
        await first.stop();
        await score(streams[0]!, [1, 1, 1]);
        const second = runner(totalsProjection(name, streams)).start();
        await second.whenCaughtUp();
        await second.stop();
        expect(await model.totals(streams)).toEqual({ [streams[0]!]: 5 });
      },
      TEST_TIMEOUT,
    );

    it(
      'a handler that throws stops the runner with its error, and the checkpoint stays before that event',
      async () => {
        const streams = [randomUUID()];
        const name = `totals-${randomUUID()}`;
        await score(streams[0]!, [1, 2, 4]);
        const failing = runner(
          totalsProjection(name, streams, (e) => e.originatorId === streams[0] && e.points === 4),
        );
        const failure = await failing.run().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(String(failure)).toContain(`refused ${streams[0]}@2`);
        const notifications = (await r().selectNotifications(1, 1_000_000)).filter(
          (n) => n.sequenceId === streams[0],
        );
        const failed = notifications[2]!.id;
        expect(await r().maxTrackingId(name)).toBeLessThan(failed);
        // Neither the event that failed nor, where the handle rolls back, the page it was in is applied.
        const applied = (await model.totals(streams))[streams[0]!] ?? 0;
        expect([0, 1, 3]).toContain(applied);
        // Fixed, the projection goes on from its checkpoint: each event once.
        const fixed = runner(totalsProjection(name, streams)).start();
        await fixed.whenCaughtUp();
        await fixed.stop();
        expect(await model.totals(streams)).toEqual({ [streams[0]!]: 7 });
      },
      TEST_TIMEOUT,
    );

    it(
      'two runners of one projection never both apply an event',
      async () => {
        const streams = [randomUUID(), randomUUID(), randomUUID()];
        const name = `totals-${randomUUID()}`;
        const runners = [runner(totalsProjection(name, streams)), runner(totalsProjection(name, streams))];
        for (const each of runners) each.start();
        await Promise.all(
          streams.map((stream) =>
            score(
              stream,
              Array.from({ length: 20 }, (_, i) => i + 1),
            ),
          ),
        );
        await Promise.all(runners.map((each) => each.whenCaughtUp()));
        const deadline = Date.now() + 15_000;
        while ((await r().maxTrackingId(name)) < (await r().maxNotificationId()) && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        await Promise.all(runners.map((each) => each.stop()));
        expect(await model.totals(streams)).toEqual({
          [streams[0]!]: 210,
          [streams[1]!]: 210,
          [streams[2]!]: 210,
        });
      },
      TEST_TIMEOUT,
    );

    it(
      'rebuild() starts from zero in one call: the read model emptied, then recomputed from the whole log',
      async () => {
        const streams = [randomUUID()];
        const name = `totals-${randomUUID()}`;
        await score(streams[0]!, [3, 4]);
        const projection = runner(totalsProjection(name, streams));
        projection.start();
        await projection.whenCaughtUp();
        await projection.stop();
        // Damage the read model by hand: a rebuild puts it right.
        await r().processWithTracking({ applicationName: `damage-${randomUUID()}`, notificationId: 1 }, (h) =>
          model.add(h, streams[0]!, 100),
        );
        expect(await model.totals(streams)).toEqual({ [streams[0]!]: 107 });
        await projection.rebuild();
        expect(await model.totals(streams)).toEqual({ [streams[0]!]: 7 });
        expect(await r().maxTrackingId(name)).toBeGreaterThan(0);
      },
      TEST_TIMEOUT,
    );
  });
}
