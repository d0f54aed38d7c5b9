import { NotSupportedError, ValidationError } from './errors.js';
import { type ApplicationRecorder, hasNotificationLog } from './recorders.js';
import { MAX_SEQUENCE_ID_LENGTH } from './record-strategy.js';
import type { SequencedItem } from './sequenced-item.js';
import type { Tracking, TrackingRecorder } from './tracking.js';
import { validateName } from './validation.js';

/**
 * Where a follower keeps its tracking records: with what it writes, in one transaction. `H` is the
 * handle that transaction offers for the follower's own writes (a read model): a Kysely transaction on
 * SQL, nothing (`undefined`) in memory. A read model may live in another database than the log it
 * follows (a SQL read model fed from Cassandra): its tracking lives with the read model.
 */
export interface ProjectionRecorder<H = unknown> extends TrackingRecorder {
  /**
   * True when a transaction that fails undoes the follower's writes made through its handle (a SQL
   * transaction). False or absent (in memory: the handle is nothing, the read model the follower's own
   * objects): a projection runner then gives each notification a transaction of its own.
   */
  readonly handleRollsBack?: boolean;
  /**
   * Runs `run(handle)` in one transaction that also records `tracking` (one record, or several: a page
   * processed at once), and commits both or neither. A notification already tracked under the same
   * name (by this follower before, or by a competing copy of it) is refused with AlreadyProcessedError
   * before `run` is called; a competing copy that is mid-way waits, then is refused the same way. A
   * `run` that throws rolls the records back, and its error is rethrown as it was.
   */
  processWithTracking<T>(
    tracking: Tracking | readonly Tracking[],
    run: (handle: H) => Promise<T> | T,
  ): Promise<T>;
  /**
   * Forgets every tracking record under `applicationName`, in one transaction with `run(handle)` (which
   * deletes the read model's rows, say): what rebuilding a projection from zero starts with.
   */
  deleteTracking(applicationName: string, run?: (handle: H) => Promise<void> | void): Promise<void>;
}

/** What a process recorder appends with its tracking: batches, each one sequence's items as `append` takes them. */
export interface ProcessAppends<I = SequencedItem> {
  readonly append?: readonly (readonly I[])[];
}

/**
 * An application recorder that records tracking in the same transaction as its appends (python
 * eventsourcing v9's process recorder): what a process application writes, its new events and the
 * tracking record of the upstream notification that caused them, commits all or none.
 *
 * Inside the transaction: the tracking records first (refused at once when taken), then `run(handle)`,
 * then `options.append`'s batches, each checked as `append` checks one (a taken position rejects with
 * ConcurrencyError and nothing of the transaction is written). New notifications get ids in commit
 * order, as autocommit appends do, and the store's `appended` signal is raised after the commit.
 */
export interface ProcessRecorder<I = SequencedItem, H = unknown>
  extends ApplicationRecorder<I>, ProjectionRecorder<H> {
  readonly supportsTracking: true;
  processWithTracking<T>(
    tracking: Tracking | readonly Tracking[],
    run: (handle: H) => Promise<T> | T,
    options?: ProcessAppends<I>,
  ): Promise<T>;
}

/** True when the store records tracking with its appends (narrows the type for the compiler). */
export function isProcessRecorder<I>(recorder: ApplicationRecorder<I>): recorder is ProcessRecorder<I> {
  const r = recorder as Partial<ProcessRecorder<I>> | null | undefined;
  return (
    r?.supportsTracking === true &&
    hasNotificationLog(recorder) &&
    typeof r.processWithTracking === 'function' &&
    typeof r.maxTrackingId === 'function'
  );
}

/** The store itself when it is a process recorder; NotSupportedError (saying what `user` needs) when not. */
export function requireProcessRecorder<I>(recorder: unknown, user: string): ProcessRecorder<I> {
  if (
    recorder === null ||
    typeof recorder !== 'object' ||
    !isProcessRecorder(recorder as ApplicationRecorder<I>)
  ) {
    const name = (recorder as object | null)?.constructor?.name ?? String(recorder);
    throw new NotSupportedError(
      `${user} needs a store that records tracking with its appends (a ProcessRecorder: the in-memory store, or a SQL store with a tracking table), and ${name} is not one`,
    );
  }
  return recorder as ProcessRecorder<I>;
}

/** A tracking name: a non-empty string of at most 255 characters without NUL. */
export function validateTrackingName(value: unknown, field = 'applicationName'): string {
  return validateName(value, field, field, MAX_SEQUENCE_ID_LENGTH);
}

/**
 * Tracking records as a list, checked: valid names, positive integer ids, no record twice. A
 * ValidationError before anything is written.
 */
export function validateTrackingList(tracking: Tracking | readonly Tracking[]): Tracking[] {
  const list = Array.isArray(tracking) ? (tracking as readonly Tracking[]) : [tracking as Tracking];
  if (list.length === 0)
    throw new ValidationError('tracking must name at least one notification', 'tracking');
  const seen = new Set<string>();
  return list.map((t) => {
    if (t === null || typeof t !== 'object')
      throw new ValidationError('tracking must be an object', 'tracking');
    const applicationName = validateTrackingName(t.applicationName);
    const { notificationId } = t;
    if (!Number.isSafeInteger(notificationId) || notificationId < 1) {
      throw new ValidationError('notificationId must be a positive integer', 'notificationId');
    }
    const key = `${notificationId}\0${applicationName}`;
    if (seen.has(key)) {
      throw new ValidationError(
        `notification ${notificationId} of ${JSON.stringify(applicationName)} is tracked twice in one call`,
        'tracking',
      );
    }
    seen.add(key);
    return { applicationName, notificationId };
  });
}
