import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from '@jest/globals';
import {
  type AggregateRecorder,
  type ApplicationRecorder,
  type Notification,
  type PositionKind,
  SequencedItem,
  type SequenceIdKind,
  hasNotificationLog,
} from '@es/core';

/** What the suite asks of a backend's factory. */
export interface CreateStrategyOptions {
  positionKind: PositionKind;
  sequenceIdKind?: SequenceIdKind;
  /** Largest `data` accepted, in UTF-8 bytes (the suite sets it only to test the limit). */
  maxItemBytes?: number;
}

interface SuiteOptionsBase {
  /** Names the backend in the test titles. */
  name: string;
  /**
   * True when the backend keeps integer sequences contiguous from 0: an append that does not start
   * right after the sequence's last item (or at 0 on an empty sequence) rejects with ConcurrencyError.
   * The suite then checks that gaps are rejected. False or absent: no test relies on gaps either way.
   */
  contiguous?: boolean;
  /**
   * The sequence id kinds the backend stores. Default both: the suite then also runs its string id
   * tests on a store created with `sequenceIdKind: 'string'`. With `['uuid']` it never asks for one.
   */
  sequenceIdKinds?: readonly SequenceIdKind[];
}

/** A backend that keeps a notification log: the suite checks the log too. */
export interface SuiteOptionsWithLog extends SuiteOptionsBase {
  notifications: true;
  /**
   * Called in `beforeAll`, several times per suite (the main store, a timestamp-positioned store, a
   * store with a small `maxItemBytes`, a snapshot store). Each call must return a store independent of
   * the others; it may hold data from earlier runs (the suite uses fresh UUIDs and relative
   * notification ids, so no cleanup is needed).
   */
  createStrategy: (options: CreateStrategyOptions) => Promise<ApplicationRecorder>;
  /** Called in `afterAll` for every strategy created. Default: `strategy.close()`. */
  closeStrategy?: (strategy: ApplicationRecorder) => Promise<void>;
}

/**
 * A backend whose integer-positioned stores keep a notification log and whose timestamp-positioned
 * stores keep none (Cassandra: its feed needs contiguous positions): `notifications: 'integer'`.
 * `createStrategy` returns an ApplicationRecorder for `positionKind: 'integer'` (checked at run time
 * by the log tests), and the suite checks no log of the timestamp stores.
 */
export interface SuiteOptionsWithIntegerLog extends SuiteOptionsBase {
  notifications: 'integer';
  createStrategy: (options: CreateStrategyOptions) => Promise<AggregateRecorder>;
  closeStrategy?: (strategy: AggregateRecorder) => Promise<void>;
}

/** A backend without a notification log: the suite checks that nothing reads one from it. */
export interface SuiteOptionsWithoutLog extends SuiteOptionsBase {
  notifications: false;
  /** As for a store with a log (see SuiteOptionsWithLog). */
  createStrategy: (options: CreateStrategyOptions) => Promise<AggregateRecorder>;
  closeStrategy?: (strategy: AggregateRecorder) => Promise<void>;
}

/**
 * What the suite needs to know about a backend. `notifications` says whether it keeps a log, and the
 * type of the stores `createStrategy` returns must agree: `true` takes only ApplicationRecorders.
 */
export type ActiveRecordStrategySuiteOptions =
  SuiteOptionsWithLog | SuiteOptionsWithIntegerLog | SuiteOptionsWithoutLog;

/** A getter for a strategy opened in `beforeAll` (it does not exist when the tests are defined). */
export type StrategyRef = () => AggregateRecorder;

/** Generous ceilings for slow stores; speed is measured by benchmarks, not here. */
export const HOOK_TIMEOUT = 120_000;
export const TEST_TIMEOUT = 60_000;

/**
 * Registers, in the calling describe, the `beforeAll` that opens a suite's one recorder and the
 * `afterAll` that closes it (with `closeRecorder`, else its own `close()`); returns its getter. The
 * process-recorder, subscription and projection suites each follow one store.
 */
export function useRecorder<R extends { close(): Promise<void> }>(options: {
  createRecorder: () => Promise<R>;
  closeRecorder?: (recorder: R) => Promise<void>;
}): () => R {
  let recorder: R | undefined;
  beforeAll(async () => {
    recorder = await options.createRecorder();
  }, HOOK_TIMEOUT);
  afterAll(async () => {
    if (recorder !== undefined) await (options.closeRecorder ?? ((r) => r.close()))(recorder);
  }, HOOK_TIMEOUT);
  return () => {
    if (recorder === undefined) throw new Error('createRecorder() did not complete');
    return recorder;
  };
}

export const TOPIC = 'es-testing.Item';

export const newSequenceId = (): string => randomUUID();

export function item(
  sequenceId: string,
  position: number,
  data = `{"position":${position}}`,
  topic = TOPIC,
): SequencedItem {
  return new SequencedItem(sequenceId, position, topic, data);
}

/** Items at consecutive positions `from`, `from + 1`, ... of one sequence. */
export function items(
  sequenceId: string,
  from: number,
  count: number,
  data?: (position: number) => string,
): SequencedItem[] {
  return Array.from({ length: count }, (_, i) => item(sequenceId, from + i, data?.(from + i)));
}

export function range(from: number, toExclusive: number, step = 1): number[] {
  const out: number[] = [];
  if (step > 0) for (let p = from; p < toExclusive; p += step) out.push(p);
  else for (let p = from; p > toExclusive; p += step) out.push(p);
  return out;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/**
 * Positions compared in one line of failure output: a mismatch in a list of 10,000 positions names
 * its index and values instead of printing both lists.
 */
export function expectPositions(actual: readonly { position: number }[], expected: readonly number[]): void {
  const length = Math.max(actual.length, expected.length);
  let mismatch = -1;
  for (let i = 0; i < length && mismatch < 0; i++) if (actual[i]?.position !== expected[i]) mismatch = i;
  expect({
    length: actual.length,
    firstMismatch:
      mismatch < 0
        ? null
        : { index: mismatch, actual: actual[mismatch]?.position, expected: expected[mismatch] },
  }).toEqual({ length: expected.length, firstMismatch: null });
}

/** The settled outcome of a promise, so one rejection can be checked several ways. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/**
 * The strategies of one suite: opens them through the backend's factory in `beforeAll` hooks, closes
 * them all in one `afterAll`, and offers the checks most tests share.
 */
export class SuiteContext {
  private readonly opened: AggregateRecorder[] = [];
  /** The options of every `createStrategy` call made so far. */
  readonly requested: CreateStrategyOptions[] = [];

  constructor(readonly options: ActiveRecordStrategySuiteOptions) {}

  /** True when the backend keeps a log (for its integer stores at least). */
  get notifications(): boolean {
    return this.options.notifications !== false;
  }

  /** Registers a `beforeAll` (in the calling describe) that opens a strategy; returns its getter. */
  useStrategy(createOptions: CreateStrategyOptions): StrategyRef {
    let strategy: AggregateRecorder | undefined;
    beforeAll(async () => {
      this.requested.push(createOptions);
      strategy = await this.options.createStrategy(createOptions);
      this.opened.push(strategy);
    }, HOOK_TIMEOUT);
    return () => {
      if (strategy === undefined)
        throw new Error(`createStrategy(${JSON.stringify(createOptions)}) did not complete`);
      return strategy;
    };
  }

  /** Registers the `afterAll` that closes every strategy opened. Call once, in the outermost describe. */
  closeAllAfter(): void {
    afterAll(async () => {
      // Each store came from createStrategy, so it has the type closeStrategy takes.
      const close =
        (this.options.closeStrategy as ((s: AggregateRecorder) => Promise<void>) | undefined) ??
        ((s: AggregateRecorder) => s.close());
      for (const strategy of this.opened.splice(0).reverse()) await close(strategy);
    }, HOOK_TIMEOUT);
  }

  /**
   * The store's notification log, for the log tests (`notifications: true`). Fails the test when the
   * store declared a log it does not have.
   */
  log(strategy: AggregateRecorder): ApplicationRecorder {
    if (!hasNotificationLog(strategy)) {
      throw new Error(
        `${this.options.name} declares notifications: true, but createStrategy returned a store without a notification log (supportsNotifications, selectNotifications, maxNotificationId)`,
      );
    }
    return strategy;
  }

  /** True when the suite checks this store's log: a backend with a log, and a store of a kind that keeps one. */
  hasLog(strategy: AggregateRecorder): boolean {
    const { notifications } = this.options;
    return notifications === true || (notifications === 'integer' && strategy.positionKind === 'integer');
  }

  /** Where the notification log ends now (0 without a log): later checks look only above it. */
  async mark(strategy: AggregateRecorder): Promise<number> {
    return this.hasLog(strategy) ? this.log(strategy).maxNotificationId() : 0;
  }

  /**
   * The notifications above `after` that belong to the given sequences. Other tests' or other
   * processes' writes may interleave, so the suite always filters by its own fresh sequence ids.
   */
  async notificationsOf(
    strategy: AggregateRecorder,
    after: number,
    sequenceIds: Iterable<string>,
  ): Promise<Notification[]> {
    const ids = new Set([...sequenceIds].map((id) => id.toLowerCase()));
    const out: Notification[] = [];
    const pageSize = 1000;
    let start = after + 1;
    while (true) {
      const page = await this.log(strategy).selectNotifications(start, pageSize);
      for (const n of page) if (ids.has(n.sequenceId.toLowerCase())) out.push(n);
      if (page.length < pageSize) return out;
      const next = page[page.length - 1]!.id + 1;
      if (!(next > start))
        throw new Error(`selectNotifications(${start}, ${pageSize}) returned ids below start`);
      start = next;
    }
  }

  /** Nothing of these sequences is stored, nor in the notification log above `mark`. */
  async expectNothingWritten(
    strategy: AggregateRecorder,
    mark: number,
    sequenceIds: readonly string[],
  ): Promise<void> {
    for (const id of sequenceIds) expect(await strategy.getItems(id)).toEqual([]);
    if (this.hasLog(strategy)) expect(await this.notificationsOf(strategy, mark, sequenceIds)).toEqual([]);
  }
}
