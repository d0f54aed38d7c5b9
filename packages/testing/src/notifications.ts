import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import {
  type ApplicationRecorder,
  ConcurrencyError,
  type Notification,
  NotSupportedError,
  NotificationLogReader,
  hasNotificationLog,
} from '@es/core';
import {
  type StrategyRef,
  type SuiteContext,
  TEST_TIMEOUT,
  expectPositions,
  item,
  items,
  newSequenceId,
  range,
} from './context.js';
import { defineNotificationTopicTests } from './notification-topics.js';

const fields = ({ sequenceId, position, topic, data }: Omit<Notification, 'id'>) => ({
  sequenceId,
  position,
  topic,
  data,
});

function expectIncreasingIds(notifications: readonly Notification[], above: number): void {
  const bad = notifications.filter(
    (n, i) => !Number.isSafeInteger(n.id) || n.id <= (i === 0 ? above : notifications[i - 1]!.id),
  );
  expect(bad).toEqual([]);
}

export function defineNotificationTests(ctx: SuiteContext, strategy: StrategyRef): void {
  if (!ctx.notifications) {
    describe('notification log (not supported)', () => {
      it(
        'nothing reads a log from it: NotificationLogReader refuses it, and any log method it has at run time rejects with NotSupportedError',
        async () => {
          const s = strategy();
          expect(hasNotificationLog(s)).toBe(false);
          // The compiler refuses this call; JavaScript callers get the same answer at run time.
          expect(() => new NotificationLogReader(s as ApplicationRecorder)).toThrow(NotSupportedError);
          // A store whose table decides (a SQL snapshot table) has the methods, but never answers them.
          const methods = s as Partial<ApplicationRecorder>;
          if (typeof methods.selectNotifications === 'function')
            await expect(methods.selectNotifications.call(s, 1, 10)).rejects.toBeInstanceOf(
              NotSupportedError,
            );
          if (typeof methods.maxNotificationId === 'function')
            await expect(methods.maxNotificationId.call(s)).rejects.toBeInstanceOf(NotSupportedError);
        },
        TEST_TIMEOUT,
      );
    });
    return;
  }

  describe('notification log', () => {
    defineNotificationTopicTests(ctx, () => ctx.log(strategy()));
    it(
      'holds every appended item in commit order, with increasing ids and all fields',
      async () => {
        const s = ctx.log(strategy());
        const mark = await s.maxNotificationId();
        const a = newSequenceId();
        const b = newSequenceId();
        const appended = [
          items(a, 0, 3, (p) => JSON.stringify({ p, text: 'ünïcode ✓ "quoted"' })),
          [item(b, 0, '{"b":0}', 'es-testing.Other')],
          [item(b, 1, '')],
          [item(a, 3)],
        ];
        for (const batch of appended) await s.append(batch);

        const ours = await ctx.notificationsOf(s, mark, [a, b]);
        expect(ours.map(fields)).toEqual(appended.flat().map(fields));
        expectIncreasingIds(ours, mark);
      },
      TEST_TIMEOUT,
    );

    it(
      'selectNotifications(start, limit) returns ids >= start, at most limit',
      async () => {
        const s = ctx.log(strategy());
        const mark = await s.maxNotificationId();
        const id = newSequenceId();
        await s.append(items(id, 0, 5));
        const ids = (await ctx.notificationsOf(s, mark, [id])).map((n) => n.id);
        expect(ids).toHaveLength(5);

        expect((await s.selectNotifications(ids[1]!, 2)).map((n) => n.id)).toEqual([ids[1], ids[2]]);
        expect((await s.selectNotifications(ids[0]!, 3)).map((n) => n.id)).toEqual(ids.slice(0, 3));
        expect((await s.selectNotifications(ids[4]!, 1)).map(fields)).toEqual([{ ...item(id, 4) }]);
        const fromFirst = await s.selectNotifications(ids[0]!, 1000);
        expect(fromFirst.filter((n) => n.sequenceId === id).map((n) => n.id)).toEqual(ids);
        expect(fromFirst.every((n) => n.id >= ids[0]!)).toBe(true);
        // Past the batch: none of it again.
        expect((await s.selectNotifications(ids[4]! + 1, 1000)).filter((n) => n.sequenceId === id)).toEqual(
          [],
        );
        // Ids start at 1, so start 0 reads from the beginning.
        const head = await s.selectNotifications(0, 3);
        expect(head).toHaveLength(3);
        expect(head.map((n) => n.id)).toEqual((await s.selectNotifications(1, 3)).map((n) => n.id));
        expect(head[0]!.id).toBeGreaterThanOrEqual(1);
      },
      TEST_TIMEOUT,
    );

    it(
      'maxNotificationId is the id of the last notification',
      async () => {
        const s = ctx.log(strategy());
        const mark = await s.maxNotificationId();
        const id = newSequenceId();
        await s.append(items(id, 0, 3));
        const max = await s.maxNotificationId();
        const ours = await ctx.notificationsOf(s, mark, [id]);
        expect(ours).toHaveLength(3);
        expect(max).toBeGreaterThanOrEqual(ours[2]!.id);
        expect((await s.selectNotifications(max, 1)).map((n) => n.id)).toEqual([max]);
        expect(await ctx.notificationsOf(s, max, [id])).toEqual([]);
      },
      TEST_TIMEOUT,
    );

    it(
      'two concurrent 1,000-item batches get id ranges that do not interleave',
      async () => {
        const s = ctx.log(strategy());
        for (let round = 0; round < 3; round++) {
          const mark = await s.maxNotificationId();
          const a = newSequenceId();
          const b = newSequenceId();
          await Promise.all([s.append(items(a, 0, 1000)), s.append(items(b, 0, 1000))]);
          const ours = await ctx.notificationsOf(s, mark, [a, b]);
          expectIncreasingIds(ours, mark);
          const idsOf = (sequenceId: string) => ours.filter((n) => n.sequenceId === sequenceId);
          expectPositions(idsOf(a), range(0, 1000));
          expectPositions(idsOf(b), range(0, 1000));
          // Ours, in id order, is all of one batch then all of the other.
          const order = ours.map((n) => n.sequenceId);
          const switches = order.filter((sequenceId, i) => i > 0 && sequenceId !== order[i - 1]).length;
          expect(switches).toBe(1);
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'a follower polling during concurrent appends sees every committed item once, in order',
      async () => {
        const s = ctx.log(strategy());
        const mark = await s.maxNotificationId();
        const sequenceIds = range(0, 4).map(() => newSequenceId());
        const committed = new Map<string, string>();
        const keyOf = (sequenceId: string, position: number) => `${sequenceId}/${position}`;
        let conflicts = 0;
        let writersDone = false;

        // 8 writers, two per sequence so that some appends conflict and must leave no trace.
        const writer = async (w: number): Promise<void> => {
          const id = sequenceIds[w % sequenceIds.length]!;
          for (let attempt = 0; attempt < 50; attempt++) {
            const [head] = await s.getItems(id, { descending: true, limit: 1 });
            const batch = items(
              id,
              head === undefined ? 0 : head.position + 1,
              1 + ((w + attempt * 3) % 5),
              (p) => JSON.stringify({ w, attempt, p }),
            );
            try {
              await s.append(batch);
              for (const b of batch) committed.set(keyOf(b.sequenceId, b.position), b.data);
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              conflicts += 1;
            }
          }
        };

        const follower = async () => {
          const seen: Notification[] = [];
          const backwards: Array<{ after: number; got: number }> = [];
          let checkpoint = mark;
          const ours = new Set(sequenceIds);
          while (true) {
            // Read the flag before polling: a poll that starts after the writers finished must see all.
            const done = writersDone;
            const page = await s.selectNotifications(checkpoint + 1, 100);
            const before = checkpoint;
            for (const n of page) {
              if (n.id <= checkpoint) backwards.push({ after: checkpoint, got: n.id });
              checkpoint = Math.max(checkpoint, n.id);
              if (ours.has(n.sequenceId)) seen.push(n);
            }
            if (page.length < 100) {
              if (done) return { seen, backwards };
              await sleep(1);
            } else if (checkpoint === before) return { seen, backwards }; // a full page of old ids: no progress possible
          }
        };

        const following = follower();
        try {
          await Promise.all(range(0, 8).map(writer));
        } finally {
          writersDone = true;
        }
        const { seen, backwards } = await following;

        expect(backwards).toEqual([]);
        const seenKeys = seen.map((n) => keyOf(n.sequenceId, n.position));
        expect(seenKeys.filter((k, i) => seenKeys.indexOf(k) !== i)).toEqual([]); // no duplicates
        expect(new Map(seen.map((n) => [keyOf(n.sequenceId, n.position), n.data]))).toEqual(committed); // none missed
        for (const id of sequenceIds) {
          const positions = seen.filter((n) => n.sequenceId === id);
          expectPositions(positions, range(0, positions.length));
        }
        expect(conflicts).toBeGreaterThan(0);
        expect(committed.size).toBeGreaterThan(0);
      },
      TEST_TIMEOUT,
    );
  });
}
