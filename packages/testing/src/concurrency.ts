import { afterEach, describe, expect, it } from '@jest/globals';
import { ConcurrencyError } from '@es/core';
import { ActiveRecordStrategy } from '@es/core/backend';
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

const WRITERS = 8;

export function defineConcurrencyTests(ctx: SuiteContext, shared: StrategyRef): void {
  describe('concurrent writers to one sequence', () => {
    // The store's own check is what races here: appends of one strategy would otherwise take turns in
    // process (append-turns.ts) and the losers fail without reaching it. Turned on again after each test.
    const strategy: StrategyRef = () => ActiveRecordStrategy.setAppendTurns(shared(), false);
    afterEach(() => {
      ActiveRecordStrategy.setAppendTurns(shared(), true);
    });
    it(
      `${WRITERS} writers racing for the next position: one winner per position`,
      async () => {
        const s = strategy();
        const id = newSequenceId();
        const positions = 40;
        const winners = new Map<number, number[]>();
        let attempts = 0;
        let conflicts = 0;

        const writer = async (w: number): Promise<void> => {
          while (true) {
            const [head] = await s.getItems(id, { descending: true, limit: 1 });
            const next = head === undefined ? 0 : head.position + 1;
            if (next >= positions) return;
            attempts += 1;
            // A store whose head read is wrong could keep every writer losing forever.
            if (attempts > positions * WRITERS * 4)
              throw new Error(`no progress after ${attempts} attempts (head read: ${next - 1})`);
            try {
              await s.append(item(id, next, JSON.stringify({ writer: w, position: next })));
              winners.set(next, [...(winners.get(next) ?? []), w]);
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              conflicts += 1;
            }
          }
        };
        await Promise.all(range(0, WRITERS).map(writer));

        // Every position won exactly once, and the stored item is the winner's.
        const duplicates = [...winners].filter(([, ws]) => ws.length !== 1);
        expect(duplicates).toEqual([]);
        expect([...winners.keys()].sort((a, b) => a - b)).toEqual(range(0, positions));
        const stored = await s.getItems(id);
        expectPositions(stored, range(0, positions));
        for (const r of stored)
          expect(JSON.parse(r.data)).toEqual({ writer: winners.get(r.position)![0], position: r.position });
        // The writers really raced: some lost, and every attempt either won or conflicted.
        expect(conflicts).toBeGreaterThan(0);
        expect(attempts).toBe(positions + conflicts);
      },
      TEST_TIMEOUT,
    );

    it(
      `${WRITERS} writers appending the same 10-item batch: exactly one succeeds`,
      async () => {
        const s = strategy();
        const id = newSequenceId();
        const mark = await ctx.mark(s);
        // First on a new sequence (no row to lock yet), then after existing items.
        for (const from of [0, 10]) {
          const outcomes = await Promise.allSettled(
            range(0, WRITERS).map((w) =>
              s.append(items(id, from, 10, (p) => JSON.stringify({ writer: w, position: p }))),
            ),
          );
          const won = outcomes.flatMap((o, w) => (o.status === 'fulfilled' ? [w] : []));
          const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
          expect(won).toHaveLength(1);
          expect(errors.filter((e) => !(e instanceof ConcurrencyError))).toEqual([]);
          const winner = won[0]!;
          const stored = await s.getItems(id, { gte: from });
          expectPositions(stored, range(from, from + 10));
          for (const r of stored)
            expect(JSON.parse(r.data)).toEqual({ writer: winner, position: r.position });
        }
        if (ctx.notifications) {
          expectPositions(await ctx.notificationsOf(s, mark, [id]), range(0, 20));
        }
      },
      TEST_TIMEOUT,
    );
  });
}
