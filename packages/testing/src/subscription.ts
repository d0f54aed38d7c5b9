import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { type ApplicationRecorder, SequencedItemMapper, Subscription, type SubscribedEvent } from '@es/core';
import { TEST_TIMEOUT, useRecorder } from './context.js';
import { TOCKED, TICKED, Ticked, Tocked, followingTopics as topics } from './following-events.js';

export interface SubscriptionSuiteOptions {
  name: string;
  /** Called once, in `beforeAll`: a store with a log (it may hold data from earlier runs). */
  createRecorder: () => Promise<ApplicationRecorder>;
  /** Called in `afterAll`. Default: `recorder.close()`. */
  closeRecorder?: (recorder: ApplicationRecorder) => Promise<void>;
}

type SuiteEvent = Ticked | Tocked;

/**
 * The contract of a live subscription over a backend's log (see @es/core's Subscription): it catches up
 * from a checkpoint and follows, never skipping or repeating a notification while several writers
 * append, wakes quickly in the process that appended, filters by topic and stops cleanly. A backend
 * whose log is new (a feed over another store) runs it to show that it plugs in.
 */
export function defineSubscriptionSuite(options: SubscriptionSuiteOptions): void {
  describe(`${options.name}: subscription conformance`, () => {
    const mapper = new SequencedItemMapper({ topics });
    const r = useRecorder(options);
    /** Appends `count` events to a stream, one append each, as a writer does. */
    const write = async (
      stream: string,
      from: number,
      count: number,
      writer = 0,
      cls: typeof Ticked | typeof Tocked = Ticked,
    ) => {
      for (let v = from; v < from + count; v++) {
        await r().append(
          mapper.toSequencedItem(new cls({ originatorId: stream, originatorVersion: v, writer })),
        );
      }
    };
    /** Collects from a subscription until `done` says so (or the time runs out: then it fails). */
    const collect = async (
      subscription: Subscription<SuiteEvent>,
      done: (seen: SubscribedEvent<SuiteEvent>[]) => boolean,
      timeoutMs = 20_000,
    ): Promise<SubscribedEvent<SuiteEvent>[]> => {
      const seen: SubscribedEvent<SuiteEvent>[] = [];
      const timer = setTimeout(() => subscription.stop(), timeoutMs);
      try {
        for await (const e of subscription) {
          seen.push(e);
          if (done(seen)) break;
        }
      } finally {
        clearTimeout(timer);
      }
      if (!done(seen)) throw new Error(`the subscription stopped after ${seen.length} events`);
      return seen;
    };

    it(
      'catches up from a checkpoint, reports caughtUp, then follows an append made after it caught up',
      async () => {
        const stream = randomUUID();
        const mark = await r().maxNotificationId();
        await write(stream, 0, 5);
        // A log that is filled after the append commits (Cassandra's feed) shows it a little later.
        let second: { id: number } | undefined;
        for (const deadline = Date.now() + 20_000; second === undefined && Date.now() < deadline;) {
          second = (await r().selectNotifications(mark + 1, 100)).find(
            (n) => n.sequenceId === stream && n.position === 1,
          );
          if (second === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const checkpoint = second!.id;
        // A store with an `appended` signal must wake its subscriber in this process without polling: the
        // poll interval is then longer than the test may run, so only the signal can deliver the live event.
        // (No latency figure is asserted: timings belong to the bench, not to tests on a shared machine.)
        const woken = r().appended !== undefined;
        const subscription = new Subscription<SuiteEvent>(r(), mapper, {
          after: checkpoint,
          pollIntervalMs: woken ? 10 * 60_000 : 20,
        });
        expect(subscription.caughtUp).toBe(false);
        const iterator = subscription[Symbol.asyncIterator]();
        const mine: number[] = [];
        while (mine.length < 3) {
          const { value } = await iterator.next();
          if (value.event.originatorId === stream) mine.push(value.event.originatorVersion);
        }
        // Positions 0 and 1 were at or before the checkpoint.
        expect(mine).toEqual([2, 3, 4]);
        // Asking for more after the last event the log held: the subscriber has caught up.
        const next = iterator.next();
        await subscription.whenCaughtUp();
        expect(subscription.caughtUp).toBe(true);
        // Live: the next event is waited for, then seen.
        await write(stream, 5, 1);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), TEST_TIMEOUT / 2);
        });
        const first = await Promise.race([next, late]);
        clearTimeout(timer);
        if (first === 'late')
          throw new Error(
            woken
              ? 'the live event did not arrive: the store raised no append signal that woke the subscriber'
              : 'the live event did not arrive: the subscriber did not poll',
          );
        let value = first.value as SubscribedEvent<SuiteEvent>;
        while (value.event.originatorId !== stream) value = (await iterator.next()).value;
        expect(value.event).toBeInstanceOf(Ticked);
        expect(value.event.originatorVersion).toBe(5);
        expect(value.id).toBeGreaterThan(checkpoint);
        await subscription[Symbol.asyncDispose]();
        expect((await iterator.next()).done).toBe(true);
      },
      TEST_TIMEOUT,
    );

    it(
      'never skips or repeats a notification while several writers append at once',
      async () => {
        const writers = 4;
        const perWriter = 30;
        const streams: string[] = Array.from({ length: writers }, () => randomUUID());
        const mark = await r().maxNotificationId();
        const subscription = new Subscription<SuiteEvent>(r(), mapper, {
          after: mark,
          pageSize: 7,
          pollIntervalMs: 5,
        });
        const seen = collect(
          subscription,
          (s) => s.filter((e) => streams.includes(e.event.originatorId)).length >= writers * perWriter,
        );
        await Promise.all(streams.map((stream, w) => write(stream, 0, perWriter, w)));
        const events = (await seen).filter((e) => streams.includes(e.event.originatorId));
        const ids = events.map((e) => e.id);
        expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
        // Each stream's events once each, in order, and exactly the log's.
        for (const stream of streams) {
          expect(
            events.filter((e) => e.event.originatorId === stream).map((e) => e.event.originatorVersion),
          ).toEqual(Array.from({ length: perWriter }, (_, i) => i));
        }
        const log = (await r().selectNotifications(mark + 1, 10_000)).filter((n) =>
          streams.includes(n.sequenceId),
        );
        expect(ids).toEqual(log.map((n) => n.id));
      },
      TEST_TIMEOUT,
    );

    it(
      'filters by topic: only the topics asked for, the others passed over',
      async () => {
        const stream = randomUUID();
        const mark = await r().maxNotificationId();
        await write(stream, 0, 3, 0, Ticked);
        await write(stream, 3, 2, 0, Tocked);
        await write(stream, 5, 1, 0, Ticked);
        const subscription = new Subscription<SuiteEvent>(r(), mapper, {
          after: mark,
          topics: [TOCKED],
          pageSize: 1,
        });
        const seen = await collect(
          subscription,
          (s) => s.filter((e) => e.event.originatorId === stream).length >= 2,
        );
        expect(seen.every((e) => e.notification.topic === TOCKED)).toBe(true);
        expect(
          seen.filter((e) => e.event.originatorId === stream).map((e) => e.event.originatorVersion),
        ).toEqual([3, 4]);
        // The others were there to pass over: the stream's notifications in the log carry both topics.
        // (A log filled after commit, like Cassandra's feed, may show the last append a moment later.)
        const streamLog = async () =>
          (await r().selectNotifications(mark + 1, 10_000)).filter((n) => n.sequenceId === stream);
        let log = await streamLog();
        for (const deadline = Date.now() + 20_000; log.length < 6 && Date.now() < deadline;)
          log = await new Promise<void>((resolve) => setTimeout(resolve, 50)).then(streamLog);
        expect(log.map((n) => n.topic)).toEqual([TICKED, TICKED, TICKED, TOCKED, TOCKED, TICKED]);
      },
      TEST_TIMEOUT,
    );

    it(
      'stops while waiting for new notifications: with an AbortSignal, and with await using',
      async () => {
        const controller = new AbortController();
        // Polls ten minutes apart: only the abort can end the wait within the test's time.
        const subscription = new Subscription<SuiteEvent>(r(), mapper, {
          after: await r().maxNotificationId(),
          signal: controller.signal,
          pollIntervalMs: 10 * 60_000,
        });
        const iteration = (async () => {
          let count = 0;
          for await (const _ of subscription) count += 1;
          return count;
        })();
        await subscription.whenCaughtUp();
        controller.abort();
        // The iteration ends (on a log filled after commit, an earlier test's event may still arrive first).
        expect(await iteration).toBeGreaterThanOrEqual(0);
        expect(subscription.stopped).toBe(true);

        let disposed: Subscription | undefined;
        {
          await using live = new Subscription<SuiteEvent>(r(), mapper, {
            after: await r().maxNotificationId(),
            pollIntervalMs: 10_000,
          });
          disposed = live;
          const iterator = live[Symbol.asyncIterator]();
          const pending = iterator.next();
          await live.whenCaughtUp();
          void pending.catch(() => undefined);
        }
        expect(disposed.stopped).toBe(true);
      },
      TEST_TIMEOUT,
    );
  });
}
