import { randomUUID } from 'node:crypto';
import { expect, it } from '@jest/globals';
import { type ApplicationRecorder, SequencedItem } from '@es/core';
import { type SuiteContext, TEST_TIMEOUT, newSequenceId } from './context.js';

/**
 * The topic filter of `selectNotifications`: only the named topics, in id order, `limit` counting
 * matches. The topics are fresh for each test, so other tests' writes never match them.
 */
export function defineNotificationTopicTests(ctx: SuiteContext, strategy: () => ApplicationRecorder): void {
  it(
    'selectNotifications(start, limit, { topics }) returns only those topics, limit counting matches',
    async () => {
      const s = ctx.log(strategy());
      const mark = await s.maxNotificationId();
      const [a, b, c] = ['A', 'B', 'C'].map((t) => `es-testing.${t}-${randomUUID()}`) as [
        string,
        string,
        string,
      ];
      const id = newSequenceId();
      const topics = [a, b, b, c, b, a, b, b, c, a];
      await s.append(topics.map((topic, p) => new SequencedItem(id, p, topic, `{"p":${p}}`)));
      await s.append(new SequencedItem(id, topics.length, b, '{}'));

      const both = await s.selectNotifications(mark + 1, 100, { topics: [a, c] });
      expect(both.map((n) => [n.position, n.topic])).toEqual([
        [0, a],
        [3, c],
        [5, a],
        [8, c],
        [9, a],
      ]);
      expect(both.every((n, i) => i === 0 || n.id > both[i - 1]!.id)).toBe(true);
      // limit counts matches, not the rows passed over to find them.
      const two = await s.selectNotifications(mark + 1, 2, { topics: [a, c] });
      expect(two.map((n) => n.position)).toEqual([0, 3]);
      const next = await s.selectNotifications(two[1]!.id + 1, 2, { topics: [a, c] });
      expect(next.map((n) => n.position)).toEqual([5, 8]);
      // A topic no item has: nothing (and the read ends).
      expect(
        await s.selectNotifications(mark + 1, 100, { topics: [`es-testing.none-${randomUUID()}`] }),
      ).toEqual([]);
      // No topics, or an empty list: every topic.
      const all = await s.selectNotifications(mark + 1, 1000, { topics: [] });
      expect(all.filter((n) => n.sequenceId === id)).toHaveLength(topics.length + 1);
    },
    TEST_TIMEOUT,
  );
}
