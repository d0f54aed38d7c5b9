import { beforeAll, describe, expect, it } from '@jest/globals';
import type { ItemQuery } from '@es/core';
import {
  HOOK_TIMEOUT,
  type StrategyRef,
  collect,
  expectPositions,
  items,
  newSequenceId,
  TEST_TIMEOUT,
} from './context.js';

interface RangeCase {
  name: string;
  query: ItemQuery;
  expected: number[];
}

/** Queries over a sequence at positions 0..9, and the positions each must return, in order. */
const CASES: RangeCase[] = [
  { name: 'no options: everything, ascending', query: {}, expected: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
  { name: 'gt', query: { gt: 6 }, expected: [7, 8, 9] },
  { name: 'gte', query: { gte: 6 }, expected: [6, 7, 8, 9] },
  { name: 'lt', query: { lt: 3 }, expected: [0, 1, 2] },
  { name: 'lte', query: { lte: 3 }, expected: [0, 1, 2, 3] },
  { name: 'limit', query: { limit: 4 }, expected: [0, 1, 2, 3] },
  { name: 'limit larger than the range', query: { limit: 100 }, expected: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
  { name: 'gt and lte', query: { gt: 2, lte: 6 }, expected: [3, 4, 5, 6] },
  { name: 'gte and lt', query: { gte: 2, lt: 6 }, expected: [2, 3, 4, 5] },
  { name: 'gte, lt and limit', query: { gte: 2, lt: 8, limit: 2 }, expected: [2, 3] },
  {
    name: 'gt and gte together: the tighter bound wins (gt)',
    query: { gt: 5, gte: 3 },
    expected: [6, 7, 8, 9],
  },
  {
    name: 'gt and gte together: the tighter bound wins (gte)',
    query: { gt: 3, gte: 5 },
    expected: [5, 6, 7, 8, 9],
  },
  { name: 'lt and lte together: the tighter bound wins (lt)', query: { lt: 3, lte: 5 }, expected: [0, 1, 2] },
  {
    name: 'lt and lte together: the tighter bound wins (lte)',
    query: { lt: 5, lte: 3 },
    expected: [0, 1, 2, 3],
  },
  {
    name: 'bounds outside the sequence',
    query: { gte: -100, lte: 100 },
    expected: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  },
  { name: 'descending', query: { descending: true }, expected: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0] },
  { name: 'descending with limit: the newest N', query: { descending: true, limit: 3 }, expected: [9, 8, 7] },
  { name: 'descending with lt and limit', query: { descending: true, lt: 5, limit: 2 }, expected: [4, 3] },
  { name: 'descending with lte and limit', query: { descending: true, lte: 5, limit: 2 }, expected: [5, 4] },
  { name: 'descending with gte', query: { descending: true, gte: 7 }, expected: [9, 8, 7] },
  {
    name: 'descending with gt, lte and limit',
    query: { descending: true, gt: 1, lte: 8, limit: 10 },
    expected: [8, 7, 6, 5, 4, 3, 2],
  },
  { name: 'descending: false is ascending', query: { descending: false, limit: 2 }, expected: [0, 1] },
  { name: 'empty: gt the last', query: { gt: 9 }, expected: [] },
  { name: 'empty: gte past the end', query: { gte: 10 }, expected: [] },
  { name: 'empty: lt the first', query: { lt: 0 }, expected: [] },
  { name: 'empty: gt 5 and lt 6', query: { gt: 5, lt: 6 }, expected: [] },
  { name: 'empty: an inverted range', query: { gte: 6, lte: 5 }, expected: [] },
  {
    name: 'empty: descending, gt the last, with limit',
    query: { gt: 9, descending: true, limit: 5 },
    expected: [],
  },
  { name: 'a single position: gte and lte equal', query: { gte: 4, lte: 4 }, expected: [4] },
];

export function defineRangeTests(strategy: StrategyRef): void {
  describe('getItems and iterateItems ranges', () => {
    const id = newSequenceId();

    beforeAll(async () => {
      await strategy().append(items(id, 0, 10));
    }, HOOK_TIMEOUT);

    it.each(CASES)(
      'getItems: $name',
      async ({ query, expected }) => {
        expectPositions(await strategy().getItems(id, query), expected);
      },
      TEST_TIMEOUT,
    );

    it.each(CASES)(
      'iterateItems (pageSize 3): $name',
      async ({ query, expected }) => {
        expectPositions(await collect(strategy().iterateItems(id, { ...query, pageSize: 3 })), expected);
      },
      TEST_TIMEOUT,
    );

    it(
      'an unknown sequence is empty, whatever the range',
      async () => {
        const unknown = newSequenceId();
        expect(await strategy().getItems(unknown)).toEqual([]);
        expect(await strategy().getItems(unknown, { descending: true, limit: 1 })).toEqual([]);
        expect(await collect(strategy().iterateItems(unknown))).toEqual([]);
      },
      TEST_TIMEOUT,
    );
  });
}
