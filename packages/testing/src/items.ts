import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ConcurrencyError, NotFoundError, SequencedItem, hasNotificationLog } from '@es/core';
import { MAX_TOPIC_LENGTH } from '@es/core/backend';
import {
  HOOK_TIMEOUT,
  type StrategyRef,
  type SuiteContext,
  TEST_TIMEOUT,
  collect,
  expectPositions,
  item,
  items,
  newSequenceId,
  range,
  rejectionOf,
} from './context.js';

/** Topics and data a store must keep byte for byte: no trimming, re-encoding, JSON normalising or NULL for ''. */
function awkwardSamples(): Array<{ topic: string; data: string }> {
  return [
    { topic: 'es-testing.Plain', data: '{"a":1,"b":"two"}' },
    {
      topic: 'es-testing.Ünïcødé.Tópic',
      data: JSON.stringify({ text: 'naïve café — 日本語 עברית 🎉 👩‍👩‍👧 𝄞', astral: '😀😃😄' }),
    },
    {
      topic: 'es-testing.Quotes',
      data: `'single' "double" \`back\` \\ backslash; DROP TABLE x; -- %_ ? $1 :name`,
    },
    { topic: 'es-testing.Whitespace', data: ' {  "b" : 2 ,\n\t"a": [3, 1, 2], "a": "dup" }  ' },
    { topic: 'es-testing.Base64', data: randomBytes(300).toString('base64') },
    { topic: 'es-testing.Empty', data: '' },
    { topic: 'es-testing.Controls', data: '\u0001\u001f\u007f\r\n\t\u2028\u2029\ufeff\uffff' },
    { topic: 'x'.repeat(MAX_TOPIC_LENGTH), data: 'a topic of the maximum length' },
    // About 460 KB: more than a 64 KB TEXT column holds.
    { topic: 'es-testing.Long', data: '0123456789abcdef€😀'.repeat(20_000) },
  ];
}

export function defineItemTests(ctx: SuiteContext, strategy: StrategyRef): void {
  it(
    'createStrategy returns a strategy of the requested kinds',
    () => {
      expect(strategy().positionKind).toBe('integer');
      expect(strategy().sequenceIdKind).toBe('uuid');
      expect(hasNotificationLog(strategy())).toBe(ctx.notifications);
    },
    TEST_TIMEOUT,
  );

  it(
    'append, getItem and getItems round-trip every field verbatim',
    async () => {
      const s = strategy();
      const id = newSequenceId();
      const expected = awkwardSamples().map(({ topic, data }, i) => new SequencedItem(id, i, topic, data));
      await s.append(expected);
      // A single item, not in an array, is a batch of one.
      const single = new SequencedItem(id, expected.length, 'es-testing.Single', '{"single":true}');
      await s.append(single);
      expected.push(single);

      expect(await s.getItems(id)).toStrictEqual(expected);
      for (const e of expected) expect(await s.getItem(id, e.position)).toStrictEqual(e);
      expect(await collect(s.iterateItems(id, { pageSize: 4 }))).toStrictEqual(expected);
    },
    TEST_TIMEOUT,
  );

  it(
    'returns instances of SequencedItem with numeric positions',
    async () => {
      const s = strategy();
      const id = newSequenceId();
      await s.append(items(id, 0, 3));
      const read = [
        await s.getItem(id, 1),
        ...(await s.getItems(id)),
        ...(await collect(s.iterateItems(id, { pageSize: 2 }))),
      ];
      expect(read).toHaveLength(7);
      for (const r of read) {
        expect(r).toBeInstanceOf(SequencedItem);
        expect(typeof r.position).toBe('number');
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'getItem of a missing position rejects with NotFoundError',
    async () => {
      const s = strategy();
      const id = newSequenceId();
      await s.append(items(id, 0, 3));
      await expect(s.getItem(id, 3)).rejects.toBeInstanceOf(NotFoundError); // past the end
      await expect(s.getItem(id, 1000)).rejects.toBeInstanceOf(NotFoundError);
      await expect(s.getItem(newSequenceId(), 0)).rejects.toBeInstanceOf(NotFoundError); // no such sequence
      expect((await s.getItem(id, 2)).position).toBe(2);
    },
    TEST_TIMEOUT,
  );

  it(
    'a UUID sequence id names the same sequence in upper and lower case',
    async () => {
      const s = strategy();
      const id = newSequenceId();
      await s.append(item(id.toUpperCase(), 0));
      expect(await s.getItems(id)).toStrictEqual([item(id, 0)]);
      expect(await s.getItem(id.toUpperCase(), 0)).toStrictEqual(item(id, 0));
      await expect(s.append(item(id, 0))).rejects.toBeInstanceOf(ConcurrencyError);
    },
    TEST_TIMEOUT,
  );

  // Integer sequences may be kept contiguous by a backend (appends must start right after the last
  // item), so a clash always includes the batch's first item. The timestamp tests clash at the last.
  it(
    'a batch whose first items clash rejects with ConcurrencyError and writes nothing',
    async () => {
      const s = strategy();
      const id = newSequenceId();
      await s.append(items(id, 0, 5));
      const mark = await ctx.mark(s);

      for (const from of [4, 2, 0]) {
        const attempt = s.append(items(id, from, 8, (p) => `{"clash":${p}}`));
        await expect(attempt).rejects.toBeInstanceOf(ConcurrencyError);
        const error = await rejectionOf(attempt);
        expect(error instanceof ConcurrencyError).toBe(true);
        expect(ConcurrencyError.isInstance(error)).toBe(true);
      }

      expect(await s.getItems(id)).toStrictEqual(items(id, 0, 5));
      for (const p of [5, 6, 7, 8]) await expect(s.getItem(id, p)).rejects.toBeInstanceOf(NotFoundError);
      if (ctx.notifications) expect(await ctx.notificationsOf(s, mark, [id])).toEqual([]);
      // The positions are still free.
      await s.append(items(id, 5, 3));
      expectPositions(await s.getItems(id), range(0, 8));
    },
    TEST_TIMEOUT,
  );

  if (ctx.options.contiguous) {
    it(
      'an append that leaves a gap rejects with ConcurrencyError and writes nothing (contiguous: true)',
      async () => {
        const s = strategy();
        const id = newSequenceId();
        const empty = newSequenceId();
        await s.append(items(id, 0, 3));
        const mark = await ctx.mark(s);

        const gaps: Array<[string, number, number]> = [
          [id, 5, 1], // stored 0..2, append [5]
          [id, 4, 3],
          [empty, 3, 1], // nothing stored, append [3]
          [empty, 1, 2],
        ];
        for (const [sequenceId, from, count] of gaps) {
          const attempt = s.append(items(sequenceId, from, count, (p) => `{"gap":${p}}`));
          const error = await rejectionOf(attempt);
          expect({ from, error }).toEqual({ from, error: expect.any(ConcurrencyError) });
        }

        expect(await s.getItems(id)).toStrictEqual(items(id, 0, 3));
        for (const p of [3, 4, 5, 6]) await expect(s.getItem(id, p)).rejects.toBeInstanceOf(NotFoundError);
        await ctx.expectNothingWritten(s, mark, [empty]);
        if (ctx.notifications) expect(await ctx.notificationsOf(s, mark, [id])).toEqual([]);
        expect((await s.listSequenceIds()).filter((l) => l.toLowerCase() === empty)).toEqual([]);
        // Appends that continue the sequences are accepted.
        await s.append(items(id, 3, 2));
        await s.append(items(empty, 0, 1));
        expect(await s.getItems(id)).toStrictEqual(items(id, 0, 5));
        expect(await s.getItems(empty)).toStrictEqual(items(empty, 0, 1));
      },
      TEST_TIMEOUT,
    );
  }

  it(
    'listSequenceIds includes every appended sequence, once',
    async () => {
      const s = strategy();
      const ids = [newSequenceId(), newSequenceId(), newSequenceId()];
      for (const id of ids) await s.append(items(id, 0, 2));
      const listed = await s.listSequenceIds();
      for (const id of ids) expect(listed.filter((l) => l.toLowerCase() === id)).toEqual([id]);
    },
    TEST_TIMEOUT,
  );

  describe('a long sequence (10,500 items appended in batches of 1,000)', () => {
    const id = newSequenceId();
    const count = 10_500;
    const dataOf = (p: number): string => JSON.stringify({ position: p, padding: 'é'.repeat(p % 50) });

    beforeAll(async () => {
      for (let from = 0; from < count; from += 1000) {
        await strategy().append(items(id, from, Math.min(1000, count - from), dataOf));
      }
    }, HOOK_TIMEOUT);

    it(
      'reads back whole, every item verbatim',
      async () => {
        const all = await strategy().getItems(id);
        expectPositions(all, range(0, count));
        const wrong = all.filter(
          (r) => r.data !== dataOf(r.position) || r.topic !== 'es-testing.Item' || r.sequenceId !== id,
        );
        expect(wrong).toEqual([]);
      },
      TEST_TIMEOUT,
    );

    it(
      'iterateItems pages through it ascending (pageSize 1000)',
      async () => {
        expectPositions(await collect(strategy().iterateItems(id, { pageSize: 1000 })), range(0, count));
      },
      TEST_TIMEOUT,
    );

    it(
      'iterateItems pages through it descending (pageSize 1000)',
      async () => {
        expectPositions(
          await collect(strategy().iterateItems(id, { pageSize: 1000, descending: true })),
          range(count - 1, -1, -1),
        );
      },
      TEST_TIMEOUT,
    );

    it(
      'iterateItems pages through a bounded range with an uneven page size and a limit',
      async () => {
        const s = strategy();
        expectPositions(
          await collect(s.iterateItems(id, { gte: 10, lt: 9990, pageSize: 777 })),
          range(10, 9990),
        );
        expectPositions(
          await collect(
            s.iterateItems(id, { gt: 100, lte: 9000, limit: 2500, descending: true, pageSize: 999 }),
          ),
          range(9000, 6500, -1),
        );
      },
      TEST_TIMEOUT,
    );

    it(
      'getItems takes the newest N with descending and limit',
      async () => {
        expectPositions(await strategy().getItems(id, { descending: true, limit: 3 }), [
          count - 1,
          count - 2,
          count - 3,
        ]);
      },
      TEST_TIMEOUT,
    );
  });
}
