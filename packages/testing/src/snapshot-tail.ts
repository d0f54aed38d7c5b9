import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  type AggregateRecorder,
  SequencedItem,
  type SnapshotTailQuery,
  ValidationError,
  readsSnapshotsWith,
} from '@es/core';
import { TEST_TIMEOUT } from './context.js';

export interface SnapshotTailSuiteOptions {
  /** Shown in the suite's title. */
  readonly name: string;
  /**
   * An events store over integer positions and a snapshots store whose snapshots it reads with its
   * events (`readsSnapshotsOf(snapshots)` true). Called once per test; the tests use fresh ids.
   */
  createStores(): Promise<{ events: AggregateRecorder; snapshots: AggregateRecorder }>;
}

/** Every bound a load asks with, the snapshot's position found by the previous call changing as it goes. */
// Bounds past every safe integer are no bound (a backend must not pass them to a 64-bit column).
const SNAPSHOT_BOUNDS = [
  undefined,
  undefined,
  20,
  16,
  16,
  2,
  undefined,
  3,
  17,
  6.5,
  -1,
  0,
  1e20,
  Number.MAX_VALUE,
];
const EVENT_BOUNDS: readonly (readonly [number | undefined, number])[] = [
  [undefined, 100],
  [undefined, 5],
  [undefined, 1],
  [19, 100],
  [3, 100],
  [7.5, 2],
  [1e20, 100],
  [Number.MAX_VALUE, 5],
];

/**
 * The contract of SnapshotTailRecorder (core recorders.ts), for a backend that implements it: the
 * answer is the two reads one after the other (the newest snapshot at or below the bound, then the
 * events from its position on, below theirs, at most `limit`), whatever the store read before.
 */
export function defineSnapshotTailSuite(options: SnapshotTailSuiteOptions): void {
  describe(`${options.name}: the newest snapshot and the events after it, read together`, () => {
    async function stream(length: number, snapshotsAt: readonly number[]) {
      const { events, snapshots } = await options.createStores();
      const id = randomUUID();
      await events.append(Array.from({ length }, (_, p) => new SequencedItem(id, p, 't.E', `{"p":${p}}`)));
      for (const at of snapshotsAt) await snapshots.append(new SequencedItem(id, at, 'Snap', `{"at":${at}}`));
      return { events, snapshots, id };
    }

    /** What the two reads give, one after the other. */
    async function twoReads(
      events: AggregateRecorder,
      snapshots: AggregateRecorder,
      id: string,
      query: SnapshotTailQuery,
    ) {
      const [snapshot] = await snapshots.getItems(id, { lte: query.snapshotLte, descending: true, limit: 1 });
      const after = await events.getItems(id, {
        gte: snapshot?.position,
        lt: query.eventsLt,
        limit: query.limit,
      });
      return { snapshot, events: after };
    }

    it(
      'answers as the two reads one after the other, for every bound',
      async () => {
        const { events, snapshots, id } = await stream(30, [3, 17]);
        if (!readsSnapshotsWith(events, snapshots))
          throw new Error('createStores: readsSnapshotsOf is false');
        for (const snapshotLte of SNAPSHOT_BOUNDS) {
          for (const [eventsLt, limit] of EVENT_BOUNDS) {
            const query = { snapshotLte, eventsLt, limit };
            const expected = await twoReads(events, snapshots, id, query);
            expect([query, await events.getSnapshotTail(snapshots, id, query)]).toEqual([query, expected]);
          }
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'sees a snapshot and events appended between loads; an id with neither has neither',
      async () => {
        const { events, snapshots, id } = await stream(12, [5]);
        if (!readsSnapshotsWith(events, snapshots))
          throw new Error('createStores: readsSnapshotsOf is false');
        const all = { limit: 100 };
        expect(await events.getSnapshotTail(snapshots, id, all)).toEqual(
          await twoReads(events, snapshots, id, all),
        );
        await events.append(new SequencedItem(id, 12, 't.E', '{}'));
        const longer = await events.getSnapshotTail(snapshots, id, all);
        expect([longer.snapshot?.position, longer.events.map((e) => e.position)]).toEqual([
          5,
          [5, 6, 7, 8, 9, 10, 11, 12],
        ]);
        await snapshots.append(new SequencedItem(id, 11, 'Snap', '{}'));
        const newer = await events.getSnapshotTail(snapshots, id, all);
        expect([newer.snapshot?.position, newer.events.map((e) => e.position)]).toEqual([11, [11, 12]]);
        expect(await events.getSnapshotTail(snapshots, randomUUID(), all)).toEqual({
          snapshot: undefined,
          events: [],
        });
      },
      TEST_TIMEOUT,
    );

    it(
      'refuses bad input with a ValidationError',
      async () => {
        const { events, snapshots } = await options.createStores();
        if (!readsSnapshotsWith(events, snapshots))
          throw new Error('createStores: readsSnapshotsOf is false');
        const bad: [string, SnapshotTailQuery][] = [
          [randomUUID(), { limit: 0 }],
          [randomUUID(), { limit: 2.5 }],
          [randomUUID(), { limit: 1, snapshotLte: Number.NaN }],
          [randomUUID(), { limit: 1, eventsLt: 'x' as unknown as number }],
          ['not a uuid', { limit: 1 }],
        ];
        for (const [id, query] of bad) {
          await expect(events.getSnapshotTail(snapshots, id, query)).rejects.toBeInstanceOf(ValidationError);
        }
      },
      TEST_TIMEOUT,
    );
  });
}
