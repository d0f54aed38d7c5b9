import { MAX_SEQUENCE_ID_LENGTH, type Tracking, type TrackingRecorder, ValidationError } from '@es/core';
import type { Transaction } from 'kysely';
import type { SqlDatastore } from './datastore.js';
import { AlreadyProcessedError, classify, mapDriverError } from './errors.js';
import { SqlTracking, type SqlTrackingTable } from './tables.js';

export interface SqlTrackingRecorderOptions {
  datastore: SqlDatastore;
  /** Default: `SqlTracking` (table `tracking`); it must be among the datastore's tables. */
  table?: SqlTrackingTable;
}

/**
 * Exactly-once projections: `processWithTracking` records which notification a read model processed in
 * the same transaction as the read model's update. The tracking row is written first, so processing a
 * notification a second time is refused (AlreadyProcessedError) before the update runs, and a failed
 * update rolls the tracking row back with it.
 */
export class SqlTrackingRecorder implements TrackingRecorder {
  readonly datastore: SqlDatastore;
  readonly table: SqlTrackingTable;
  private maxStatement: string | undefined;

  constructor(options: SqlTrackingRecorderOptions) {
    this.datastore = options.datastore;
    this.table = options.table ?? SqlTracking;
  }

  /**
   * Runs `process` in a transaction that also records `tracking`, and commits both or neither. Use only
   * `trx` for the read model inside `process`. Throws AlreadyProcessedError when the notification was
   * already recorded (by this or a competing process); `process` then does not run.
   */
  async processWithTracking<T>(
    tracking: Tracking,
    process: (trx: Transaction<any>) => Promise<T>,
  ): Promise<T> {
    const { applicationName, notificationId } = validateTracking(tracking);
    return this.datastore.use((connection) =>
      connection.transaction(
        async (trx) => {
          try {
            await trx
              .insertInto(this.table.tableName)
              .values({ application_name: applicationName, notification_id: notificationId })
              .execute();
          } catch (error) {
            if (classify(error) === 'unique')
              throw new AlreadyProcessedError(applicationName, notificationId, { cause: error });
            throw mapDriverError(this.datastore.settings, error, {
              write: false,
              what: `recording tracking in ${this.table.tableName}`,
            });
          }
          return process(trx);
        },
        `notification ${notificationId} of ${JSON.stringify(applicationName)}`,
      ),
    );
  }

  /** The highest notification id recorded for the application, or 0. */
  async maxTrackingId(applicationName: string): Promise<number> {
    const name = validateApplicationName(applicationName);
    return this.datastore.use(async (connection) => {
      this.maxStatement ??= connection.db
        .selectFrom(this.table.tableName)
        .select((eb) => eb.fn.max('notification_id').as('max'))
        .where('application_name', '=', name)
        .compile().sql;
      try {
        const [row] = await connection.select(this.maxStatement, [name]);
        return Number(row?.max ?? 0);
      } catch (error) {
        throw mapDriverError(this.datastore.settings, error, {
          write: false,
          what: `reading ${this.table.tableName}`,
        });
      }
    });
  }
}

function validateApplicationName(value: unknown): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_SEQUENCE_ID_LENGTH ||
    value.includes('\0')
  ) {
    throw new ValidationError(
      `applicationName must be a non-empty string of at most ${MAX_SEQUENCE_ID_LENGTH} characters without NUL`,
      'applicationName',
    );
  }
  return value;
}

function validateTracking(tracking: Tracking): Tracking {
  if (tracking === null || typeof tracking !== 'object')
    throw new ValidationError('tracking must be an object', 'tracking');
  const applicationName = validateApplicationName(tracking.applicationName);
  const { notificationId } = tracking;
  if (!Number.isSafeInteger(notificationId) || notificationId < 1) {
    throw new ValidationError('notificationId must be a positive integer', 'notificationId');
  }
  return { applicationName, notificationId };
}
