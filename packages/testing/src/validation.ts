import { describe, expect, it } from '@jest/globals';
import { SequencedItem, ValidationError } from '@es/core';
import { MAX_TOPIC_LENGTH } from '@es/core/backend';
import {
  type StrategyRef,
  type SuiteContext,
  collect,
  item,
  items,
  newSequenceId,
  rejectionOf,
  TEST_TIMEOUT,
} from './context.js';

/** Rejects with a ValidationError naming `field`. */
async function expectValidationError(promise: Promise<unknown>, field: string): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).field).toBe(field);
}

/** Bypasses the types, as JavaScript callers and decoded JSON can. */
const loosely = <T>(value: unknown): T => value as T;

export function defineValidationTests(ctx: SuiteContext, strategy: StrategyRef): void {
  describe('bad input: a ValidationError, and nothing written', () => {
    it(
      'a malformed UUID sequence id',
      async () => {
        const s = strategy();
        const mark = await ctx.mark(s);
        const valid = newSequenceId();
        const malformed = [
          'not-a-uuid',
          '',
          `${valid}0`,
          ` ${valid}`,
          valid.replace(/-/g, ''),
          `${valid.slice(0, -1)}g`,
          'x\0y',
        ];
        for (const bad of [...malformed, loosely<string>(42), loosely<string>(null)]) {
          await expectValidationError(s.append(item(bad, 0)), 'sequenceId');
          await expectValidationError(s.getItems(bad), 'sequenceId');
          await expectValidationError(s.getItem(bad, 0), 'sequenceId');
          await expectValidationError(collect(s.iterateItems(bad)), 'sequenceId');
        }
        const listed = new Set(await s.listSequenceIds());
        expect(malformed.filter((bad) => listed.has(bad))).toEqual([]);
        await ctx.expectNothingWritten(s, mark, [valid]);
        if (ctx.notifications) expect(await ctx.notificationsOf(s, mark, malformed)).toEqual([]);
      },
      TEST_TIMEOUT,
    );

    it(
      'a position that is negative, fractional, NaN, infinite, unsafe or not a number',
      async () => {
        const s = strategy();
        const mark = await ctx.mark(s);
        const id = newSequenceId();
        for (const bad of [
          -1,
          1.5,
          0.1,
          NaN,
          Infinity,
          -Infinity,
          2 ** 53,
          loosely<number>('1'),
          loosely<number>(null),
        ]) {
          await expectValidationError(s.append(item(id, bad)), 'position');
          await expectValidationError(s.getItem(id, bad), 'position');
        }
        await expectValidationError(s.append([item(id, 0), item(id, 1), item(id, NaN)]), 'position');
        await ctx.expectNothingWritten(s, mark, [id]);
      },
      TEST_TIMEOUT,
    );

    it(
      'an empty batch',
      async () => {
        await expectValidationError(strategy().append([]), 'items');
      },
      TEST_TIMEOUT,
    );

    it(
      'positions in a batch that are not consecutive and ascending',
      async () => {
        const s = strategy();
        const mark = await ctx.mark(s);
        const id = newSequenceId();
        for (const positions of [
          [0, 2],
          [1, 0],
          [0, 0],
          [3, 4, 6],
          [5, 4, 3],
        ]) {
          await expectValidationError(s.append(positions.map((p) => item(id, p))), 'position');
        }
        await ctx.expectNothingWritten(s, mark, [id]);
      },
      TEST_TIMEOUT,
    );

    it(
      'mixed sequence ids in one batch',
      async () => {
        const s = strategy();
        const mark = await ctx.mark(s);
        const a = newSequenceId();
        const b = newSequenceId();
        await expectValidationError(s.append([item(a, 0), item(b, 1)]), 'sequenceId');
        await expectValidationError(s.append([item(a, 0), item(a, 1), item(b, 2)]), 'sequenceId');
        await ctx.expectNothingWritten(s, mark, [a, b]);
      },
      TEST_TIMEOUT,
    );

    it(
      'a NUL character, an empty or an over-long topic; NUL or non-string data',
      async () => {
        const s = strategy();
        const mark = await ctx.mark(s);
        const id = newSequenceId();
        const badTopics = [
          'es-testing.\0Nul',
          '\0',
          '',
          'x'.repeat(MAX_TOPIC_LENGTH + 1),
          loosely<string>(7),
        ];
        for (const topic of badTopics)
          await expectValidationError(s.append(item(id, 0, '{}', topic)), 'topic');
        for (const data of ['{"nul":"\0"}', loosely<string>(null), loosely<string>({ a: 1 })]) {
          await expectValidationError(s.append(item(id, 0, data)), 'data');
        }
        // One bad item in the middle of a batch: none of the batch is written.
        const batch = items(id, 0, 5);
        batch[2] = new SequencedItem(id, 2, 'es-testing.\0Nul', '{}');
        await expectValidationError(s.append(batch), 'topic');
        await ctx.expectNothingWritten(s, mark, [id]);
      },
      TEST_TIMEOUT,
    );

    it(
      'bad query options: limit 0, negative or fractional limit, NaN bounds, bad page size',
      async () => {
        const s = strategy();
        const id = newSequenceId();
        await s.append(items(id, 0, 3));
        const badQueries: Array<[Record<string, unknown>, string]> = [
          [{ limit: 0 }, 'limit'],
          [{ limit: -1 }, 'limit'],
          [{ limit: 1.5 }, 'limit'],
          [{ limit: NaN }, 'limit'],
          [{ gt: NaN }, 'gt'],
          [{ gte: NaN }, 'gte'],
          [{ lt: NaN }, 'lt'],
          [{ lte: NaN }, 'lte'],
          [{ gt: '1' }, 'gt'],
        ];
        for (const [query, field] of badQueries) {
          await expectValidationError(s.getItems(id, query), field);
          await expectValidationError(collect(s.iterateItems(id, query)), field);
        }
        await expectValidationError(collect(s.iterateItems(id, { pageSize: 0 })), 'pageSize');
        await expectValidationError(collect(s.iterateItems(id, { pageSize: 2.5 })), 'pageSize');
        if (ctx.notifications) {
          const log = ctx.log(s);
          await expectValidationError(log.selectNotifications(-1, 10), 'start');
          await expectValidationError(log.selectNotifications(1.5, 10), 'start');
          await expectValidationError(log.selectNotifications(1, 0), 'limit');
          await expectValidationError(log.selectNotifications(1, -5), 'limit');
          await expectValidationError(log.selectNotifications(1, NaN), 'limit');
        }
        // The sequence is untouched and still readable.
        expect(await s.getItems(id)).toStrictEqual(items(id, 0, 3));
      },
      TEST_TIMEOUT,
    );
  });

  describe('items larger than maxItemBytes (a strategy created with maxItemBytes: 1024)', () => {
    const small = ctx.useStrategy({ positionKind: 'integer', sequenceIdKind: 'uuid', maxItemBytes: 1024 });

    it(
      'rejects data over the limit, counted in UTF-8 bytes, and writes nothing of the batch',
      async () => {
        const s = small();
        const mark = await ctx.mark(s);
        const id = newSequenceId();
        await expectValidationError(s.append(item(id, 0, 'x'.repeat(2000))), 'data');
        // 342 characters, 1,026 bytes.
        await expectValidationError(s.append(item(id, 0, '€'.repeat(342))), 'data');
        await expectValidationError(
          s.append([item(id, 0, 'small'), item(id, 1, 'small'), item(id, 2, 'y'.repeat(2000))]),
          'data',
        );
        await ctx.expectNothingWritten(s, mark, [id]);
      },
      TEST_TIMEOUT,
    );

    it(
      'accepts data of exactly the limit',
      async () => {
        const s = small();
        const id = newSequenceId();
        const atLimit = [item(id, 0, 'x'.repeat(1024)), item(id, 1, `${'€'.repeat(341)}a`)];
        await s.append(atLimit);
        expect(await s.getItems(id)).toStrictEqual(atLimit);
      },
      TEST_TIMEOUT,
    );
  });
}
