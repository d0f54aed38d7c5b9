import { describe, expect, it } from '@jest/globals';
import { ConcurrencyError, type ItemQuery, NotFoundError, ValidationError } from '@es/core';
import { createTimestamp } from '@es/core/backend';
import {
  type SuiteContext,
  collect,
  expectPositions,
  item,
  newSequenceId,
  rejectionOf,
  TEST_TIMEOUT,
} from './context.js';

/** Milliseconds since the epoch with microsecond fractions, as createTimestamp() makes them. */
const POSITIONS = [
  1700000000000.001, 1700000000000.123, 1700000000000.124, 1700000000001.5, 1700000000002.999, 1700000001000,
];
const [P0, P1, P2, P3, P4, P5] = POSITIONS as [number, number, number, number, number, number];

const RANGES: Array<{ name: string; query: ItemQuery; expected: number[] }> = [
  { name: 'gt an exact fractional position excludes it', query: { gt: P1 }, expected: [P2, P3, P4, P5] },
  {
    name: 'gte an exact fractional position includes it',
    query: { gte: P1 },
    expected: [P1, P2, P3, P4, P5],
  },
  { name: 'lt an exact fractional position excludes it', query: { lt: P2 }, expected: [P0, P1] },
  { name: 'lte an exact fractional position includes it', query: { lte: P2 }, expected: [P0, P1, P2] },
  {
    name: 'a bound between two positions',
    query: { gt: 1700000000000.1235, lt: 1700000000002 },
    expected: [P2, P3],
  },
  { name: 'gte and lte on one position', query: { gte: P3, lte: P3 }, expected: [P3] },
  { name: 'descending with limit: the newest N', query: { descending: true, limit: 2 }, expected: [P5, P4] },
  {
    name: 'descending with lte and limit',
    query: { descending: true, lte: P2, limit: 2 },
    expected: [P2, P1],
  },
  { name: 'empty: between two adjacent positions', query: { gt: P1, lt: P2 }, expected: [] },
];

export function defineTimestampTests(ctx: SuiteContext): void {
  describe('timestamp positions (a strategy created with positionKind: "timestamp")', () => {
    const strategy = ctx.useStrategy({ positionKind: 'timestamp', sequenceIdKind: 'uuid' });

    it(
      'createStrategy returns a timestamp strategy',
      () => {
        expect(strategy().positionKind).toBe('timestamp');
      },
      TEST_TIMEOUT,
    );

    it(
      'fractional positions round-trip exactly',
      async () => {
        const s = strategy();
        const mark = await ctx.mark(s);
        const id = newSequenceId();
        // One batch need not be consecutive, only ascending.
        await s.append(POSITIONS.map((p) => item(id, p, JSON.stringify({ p }))));
        expect(await s.getItems(id)).toStrictEqual(POSITIONS.map((p) => item(id, p, JSON.stringify({ p }))));
        for (const p of POSITIONS) expect((await s.getItem(id, p)).position).toBe(p);
        // A position between two others, and one past the end.
        await expect(s.getItem(id, 1700000000000.122)).rejects.toBeInstanceOf(NotFoundError);
        await expect(s.getItem(id, 1700000001000.001)).rejects.toBeInstanceOf(NotFoundError);
        if (ctx.hasLog(s))
          expect((await ctx.notificationsOf(s, mark, [id])).map((n) => n.position)).toEqual(POSITIONS);

        // Timestamps of now, made by the library.
        const other = newSequenceId();
        const now = [createTimestamp(), createTimestamp(), createTimestamp()];
        for (const p of now) await s.append(item(other, p));
        expectPositions(await s.getItems(other), now);
      },
      TEST_TIMEOUT,
    );

    it.each(RANGES)(
      'ranges: $name',
      async ({ query, expected }) => {
        const s = strategy();
        const id = newSequenceId();
        await s.append(POSITIONS.map((p) => item(id, p)));
        expectPositions(await s.getItems(id, query), expected);
        expectPositions(await collect(s.iterateItems(id, { ...query, pageSize: 2 })), expected);
      },
      TEST_TIMEOUT,
    );

    it(
      'a batch with a taken timestamp (first, middle or last item) rejects with ConcurrencyError and writes nothing',
      async () => {
        const s = strategy();
        const id = newSequenceId();
        await s.append(POSITIONS.map((p) => item(id, p)));
        const mark = await ctx.mark(s);
        const free = [1700000000000.05, 1700000000000.06, 1700000000000.07];
        const batches = [
          [P1, 1700000000000.2, 1700000000000.3], // first
          [free[0]!, P1, 1700000000000.2], // middle
          [...free, P1], // last
        ];
        for (const positions of batches) {
          const attempt = s.append(positions.map((p) => item(id, p, '{"clash":true}')));
          await expect(attempt).rejects.toBeInstanceOf(ConcurrencyError);
          expect((await rejectionOf(attempt)) instanceof ConcurrencyError).toBe(true);
        }
        expectPositions(await s.getItems(id), POSITIONS);
        if (ctx.hasLog(s)) expect(await ctx.notificationsOf(s, mark, [id])).toEqual([]);

        // The free positions are still free. Reads come in position order; the log in commit order.
        await s.append(free.map((p) => item(id, p)));
        expectPositions(await s.getItems(id), [P0, ...free, P1, P2, P3, P4, P5]);
        if (ctx.hasLog(s))
          expect((await ctx.notificationsOf(s, mark, [id])).map((n) => n.position)).toEqual(free);
      },
      TEST_TIMEOUT,
    );

    it(
      'rejects negative, NaN and infinite positions, and batches not strictly ascending',
      async () => {
        const s = strategy();
        const mark = await ctx.mark(s);
        const id = newSequenceId();
        const batches = [[-0.5], [-1], [NaN], [Infinity], [2.5, 1.5], [1.5, 1.5]].map((ps) =>
          ps.map((p) => item(id, p)),
        );
        for (const batch of batches) {
          const error = await rejectionOf(s.append(batch));
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).field).toBe('position');
        }
        await ctx.expectNothingWritten(s, mark, [id]);
      },
      TEST_TIMEOUT,
    );
  });
}
