import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  AlreadyProcessedError,
  ConcurrencyError,
  type ProcessRecorder,
  type SequencedItem,
  ValidationError,
} from '@es/core';
import { TEST_TIMEOUT, item, items, newSequenceId, rejectionOf, useRecorder } from './context.js';

/** A read model the suite writes through a transaction's handle: one number per key. */
export interface SuiteReadModel<H> {
  write(handle: H, key: string, value: number): Promise<void>;
  /** The committed value, read outside any transaction. */
  read(key: string): Promise<number | undefined>;
}

export interface ProcessRecorderSuiteOptions<H> {
  name: string;
  /** Called once per suite, in `beforeAll`. It may hold data from earlier runs: the suite uses fresh names. */
  createRecorder: () => Promise<ProcessRecorder<SequencedItem, H>>;
  /** Called in `afterAll`. Default: `recorder.close()`. */
  closeRecorder?: (recorder: ProcessRecorder<SequencedItem, H>) => Promise<void>;
  /**
   * A read model in the same database, written through the handle. Absent for a store whose
   * transactions offer no handle (in memory): the tests of read-model rollback are then not defined
   * (there is nothing of the store's to roll back, and no test is reported as skipped).
   */
  readModel?: SuiteReadModel<H>;
}

/**
 * The contract of a process recorder (see @es/core's process-recorder.ts): tracking records, the
 * follower's writes and new events in one transaction, all or none; a notification tracked once.
 */
export function defineProcessRecorderSuite<H>(options: ProcessRecorderSuiteOptions<H>): void {
  describe(`${options.name}: process recorder conformance`, () => {
    const r = useRecorder(options);
    const name = (): string => `es-testing-${randomUUID()}`;
    const ours = async (mark: number, sequenceIds: readonly string[]) =>
      (await r().selectNotifications(mark + 1, 10_000)).filter((n) => sequenceIds.includes(n.sequenceId));

    it(
      'records tracking with what run returns; maxTrackingId is the highest id recorded',
      async () => {
        const app = name();
        expect(await r().maxTrackingId(app)).toBe(0);
        expect(
          await r().processWithTracking({ applicationName: app, notificationId: 3 }, () => 'three'),
        ).toBe('three');
        expect(await r().maxTrackingId(app)).toBe(3);
        // Ids need not come in order; several in one call are recorded together.
        await r().processWithTracking(
          [
            { applicationName: app, notificationId: 1 },
            { applicationName: app, notificationId: 7 },
          ],
          async () => undefined,
        );
        expect(await r().maxTrackingId(app)).toBe(7);
        expect(await r().maxTrackingId(name())).toBe(0);
      },
      TEST_TIMEOUT,
    );

    it(
      'a notification tracked before is refused with AlreadyProcessedError before run is called, and nothing is appended',
      async () => {
        const app = name();
        await r().processWithTracking({ applicationName: app, notificationId: 5 }, () => undefined);
        const mark = await r().maxNotificationId();
        const id = newSequenceId();
        let called = false;
        const error = await rejectionOf(
          r().processWithTracking(
            [
              { applicationName: app, notificationId: 6 },
              { applicationName: app, notificationId: 5 },
            ],
            () => {
              called = true;
            },
            { append: [items(id, 0, 2)] },
          ),
        );
        expect(error).toBeInstanceOf(AlreadyProcessedError);
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect(error).toMatchObject({ applicationName: app, notificationId: 5 });
        expect(called).toBe(false);
        // Neither record of the refused call is kept: 6 can still be processed.
        expect(await r().maxTrackingId(app)).toBe(5);
        expect(await r().getItems(id)).toEqual([]);
        expect(await ours(mark, [id])).toEqual([]);
      },
      TEST_TIMEOUT,
    );

    it(
      'appends its batches with the tracking record: in the log after what was there, in order',
      async () => {
        const app = name();
        const before = await r().maxNotificationId();
        const signalled = r().appended?.count;
        const [a, b] = [newSequenceId(), newSequenceId()];
        await r().processWithTracking({ applicationName: app, notificationId: 1 }, () => undefined, {
          append: [items(a, 0, 2), [item(b, 0)], [item(a, 2)]],
        });
        expect(await r().maxTrackingId(app)).toBe(1);
        expect((await r().getItems(a)).map((i) => i.position)).toEqual([0, 1, 2]);
        const logged = await ours(before, [a, b]);
        expect(logged.map((n) => [n.sequenceId, n.position])).toEqual([
          [a, 0],
          [a, 1],
          [b, 0],
          [a, 2],
        ]);
        expect(logged.every((n, i) => n.id > (i === 0 ? before : logged[i - 1]!.id))).toBe(true);
        // Followers in this process are woken.
        if (signalled !== undefined) expect(r().appended!.count).toBeGreaterThan(signalled);
      },
      TEST_TIMEOUT,
    );

    it(
      'a taken position in any batch rejects with ConcurrencyError: no batch, no tracking record',
      async () => {
        const app = name();
        const [a, b] = [newSequenceId(), newSequenceId()];
        await r().append(items(b, 0, 2));
        const mark = await r().maxNotificationId();
        const error = await rejectionOf(
          r().processWithTracking({ applicationName: app, notificationId: 1 }, () => undefined, {
            append: [items(a, 0, 3), [item(b, 1)]],
          }),
        );
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect(error).not.toBeInstanceOf(AlreadyProcessedError);
        expect(await r().maxTrackingId(app)).toBe(0);
        expect(await r().getItems(a)).toEqual([]);
        expect(await r().getItems(b)).toHaveLength(2);
        expect(await ours(mark, [a, b])).toEqual([]);
        // Two batches of one transaction that take the same position clash the same way.
        await expect(
          r().processWithTracking({ applicationName: app, notificationId: 1 }, () => undefined, {
            append: [items(a, 0, 2), [item(a, 1)]],
          }),
        ).rejects.toBeInstanceOf(ConcurrencyError);
        expect(await r().getItems(a)).toEqual([]);
      },
      TEST_TIMEOUT,
    );

    it(
      'a run that throws: its error as it was, no tracking record, nothing appended',
      async () => {
        const app = name();
        const id = newSequenceId();
        const mark = await r().maxNotificationId();
        const failure = new Error('the handler failed');
        const error = await rejectionOf(
          r().processWithTracking(
            { applicationName: app, notificationId: 2 },
            () => {
              throw failure;
            },
            { append: [items(id, 0, 1)] },
          ),
        );
        expect(error).toBe(failure);
        expect(await r().maxTrackingId(app)).toBe(0);
        expect(await ours(mark, [id])).toEqual([]);
        // The notification can be processed again.
        await r().processWithTracking({ applicationName: app, notificationId: 2 }, () => undefined);
        expect(await r().maxTrackingId(app)).toBe(2);
      },
      TEST_TIMEOUT,
    );

    it(
      'bad input is a ValidationError before anything runs or is written',
      async () => {
        const app = name();
        const id = newSequenceId();
        let called = false;
        const run = () => {
          called = true;
        };
        const bad: unknown[] = [
          { applicationName: '', notificationId: 1 },
          { applicationName: app, notificationId: 0 },
          { applicationName: app, notificationId: 1.5 },
          { applicationName: 'a\0b', notificationId: 1 },
          [],
          [
            { applicationName: app, notificationId: 4 },
            { applicationName: app, notificationId: 4 },
          ],
        ];
        for (const tracking of bad) {
          await expect(r().processWithTracking(tracking as never, run)).rejects.toBeInstanceOf(
            ValidationError,
          );
        }
        // A bad batch (positions not ascending) is refused before the transaction too.
        await expect(
          r().processWithTracking({ applicationName: app, notificationId: 1 }, run, {
            append: [[item(id, 1), item(id, 0)]],
          }),
        ).rejects.toBeInstanceOf(ValidationError);
        await expect(r().maxTrackingId('')).rejects.toBeInstanceOf(ValidationError);
        expect(called).toBe(false);
        expect(await r().maxTrackingId(app)).toBe(0);
        expect(await r().getItems(id)).toEqual([]);
      },
      TEST_TIMEOUT,
    );

    it(
      'two competing calls for one notification: one commits, the other waits and is refused',
      async () => {
        const app = name();
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let runs = 0;
        const first = r().processWithTracking({ applicationName: app, notificationId: 9 }, async () => {
          runs += 1;
          await gate;
          return 'first';
        });
        // Let the first call take its record before the second starts.
        await new Promise((resolve) => setTimeout(resolve, 50));
        const second = r().processWithTracking({ applicationName: app, notificationId: 9 }, () => {
          runs += 1;
          return 'second';
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
        release();
        const outcomes = await Promise.allSettled([first, second]);
        expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'first' });
        expect(outcomes[1]).toMatchObject({ status: 'rejected' });
        expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(AlreadyProcessedError);
        expect(runs).toBe(1);
      },
      TEST_TIMEOUT,
    );

    it(
      'deleteTracking forgets every record of a name (and runs its step first), leaving other names',
      async () => {
        const [app, other] = [name(), name()];
        await r().processWithTracking({ applicationName: app, notificationId: 4 }, () => undefined);
        await r().processWithTracking({ applicationName: other, notificationId: 4 }, () => undefined);
        let ran = false;
        await r().deleteTracking(app, () => {
          ran = true;
        });
        expect(ran).toBe(true);
        expect(await r().maxTrackingId(app)).toBe(0);
        expect(await r().maxTrackingId(other)).toBe(4);
        // Processed again from zero.
        await r().processWithTracking({ applicationName: app, notificationId: 4 }, () => undefined);
        expect(await r().maxTrackingId(app)).toBe(4);
      },
      TEST_TIMEOUT,
    );

    const readModel = options.readModel;
    if (readModel !== undefined) defineReadModelTests(r, name, readModel);
  });
}

function defineReadModelTests<H>(
  r: () => ProcessRecorder<SequencedItem, H>,
  name: () => string,
  readModel: SuiteReadModel<H>,
): void {
  it(
    "the read model's writes commit with the tracking record, or roll back with it",
    async () => {
      const app = name();
      const key = randomUUID();
      await r().processWithTracking({ applicationName: app, notificationId: 1 }, (h) =>
        readModel.write(h, key, 1),
      );
      expect(await readModel.read(key)).toBe(1);
      const failure = new Error('after the write');
      await expect(
        r().processWithTracking({ applicationName: app, notificationId: 2 }, async (h) => {
          await readModel.write(h, key, 2);
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await readModel.read(key)).toBe(1);
      // A conflict in the appends, after run: the read model's write is rolled back too.
      const id = newSequenceId();
      await r().append(item(id, 0));
      await expect(
        r().processWithTracking(
          { applicationName: app, notificationId: 2 },
          (h) => readModel.write(h, key, 3),
          {
            append: [[item(id, 0)]],
          },
        ),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await readModel.read(key)).toBe(1);
      expect(await r().maxTrackingId(app)).toBe(1);
    },
    TEST_TIMEOUT,
  );

  it(
    'deleteTracking runs its step in the same transaction: a step that throws forgets nothing',
    async () => {
      const app = name();
      const key = randomUUID();
      await r().processWithTracking({ applicationName: app, notificationId: 1 }, (h) =>
        readModel.write(h, key, 1),
      );
      const failure = new Error('reset failed');
      await expect(
        r().deleteTracking(app, async (h) => {
          await readModel.write(h, key, 0);
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await readModel.read(key)).toBe(1);
      expect(await r().maxTrackingId(app)).toBe(1);
    },
    TEST_TIMEOUT,
  );
}
