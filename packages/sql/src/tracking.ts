import { type ProjectionRecorder, type Tracking } from '@es/core';
import { validateTrackingList, validateTrackingName } from '@es/core/backend';
import { type Transaction, sql } from 'kysely';
import { asCaller } from './connection.js';
import type { SqlDatastore } from './datastore.js';
import { AlreadyProcessedError, classify, mapDriverError } from './errors.js';
import { SqlTracking, type SqlTrackingTable, type SchemalessDatabase } from './tables.js';

/** Tracking rows per insert statement: a page's rows go in as few statements as these allow. */
const TRACKING_ROWS_PER_STATEMENT = 1000;

export interface SqlTrackingRecorderOptions {
  datastore: SqlDatastore;
  /** Default: `SqlTracking` (table `tracking`); it must be among the datastore's tables. */
  table?: SqlTrackingTable;
}

/**
 * Exactly-once projections into a SQL read model: `processWithTracking` records which notification a
 * read model processed in the same transaction as the read model's update. The tracking rows are
 * written first, so processing a notification a second time is refused (AlreadyProcessedError) before
 * the update runs, and a failed update rolls the tracking rows back with it. A read model may follow a
 * log kept in another database (Cassandra, another SQL server): its tracking lives here, with it.
 */
export class SqlTrackingRecorder implements ProjectionRecorder<Transaction<SchemalessDatabase>> {
  readonly datastore: SqlDatastore;
  readonly table: SqlTrackingTable;
  /** A failed transaction undoes the read model's writes made through its Kysely transaction. */
  readonly handleRollsBack = true;
  private maxStatement: string | undefined;

  constructor(options: SqlTrackingRecorderOptions) {
    this.datastore = options.datastore;
    this.table = options.table ?? SqlTracking;
  }

  /**
   * Runs `process` in a transaction that also records `tracking` (one record or several), and commits
   * both or neither. Use only `trx` for the read model inside `process`. Throws AlreadyProcessedError
   * when a notification was already recorded (by this or a competing process); `process` then does not run.
   */
  async processWithTracking<T>(
    tracking: Tracking | readonly Tracking[],
    process: (trx: Transaction<SchemalessDatabase>) => Promise<T> | T,
  ): Promise<T> {
    const records = validateTrackingList(tracking);
    return this.datastore.use((connection) =>
      connection.transaction(async (trx) => {
        await this.record(trx, records);
        return asCaller(() => process(trx));
      }, describe(records)),
    );
  }

  /**
   * Inserts checked tracking rows in an open transaction: AlreadyProcessedError when one is taken.
   * @internal (the SQL strategy's process recorder writes them with its appends)
   */
  async record(trx: Transaction<SchemalessDatabase>, records: readonly Tracking[]): Promise<void> {
    if (records.length === 1) return this.recordEach(trx, records);
    // A page's rows in one statement (one round trip, not one per notification), under a savepoint: when
    // one is taken, the savepoint undoes the statement (PostgreSQL would otherwise abort the whole
    // transaction) and the rows go again one by one, so that the refusal names the very notification.
    await sql`savepoint es_tracking`.execute(trx);
    try {
      // In chunks: a statement's parameters are bounded (PostgreSQL 65,535; SQLite 32,766), two per row.
      for (let from = 0; from < records.length; from += TRACKING_ROWS_PER_STATEMENT) {
        await trx
          .insertInto(this.table.tableName)
          .values(
            records
              .slice(from, from + TRACKING_ROWS_PER_STATEMENT)
              .map((r) => ({ application_name: r.applicationName, notification_id: r.notificationId })),
          )
          .execute();
      }
    } catch (error) {
      if (classify(error) !== 'unique') throw this.failed(error);
      await sql`rollback to savepoint es_tracking`.execute(trx);
      // Meets the taken row and throws; goes through only if that row's writer rolled back meanwhile.
      await this.recordEach(trx, records);
    }
    await sql`release savepoint es_tracking`.execute(trx);
  }

  /** One row per statement: a refusal names the notification that was taken. */
  private async recordEach(
    trx: Transaction<SchemalessDatabase>,
    records: readonly Tracking[],
  ): Promise<void> {
    for (const { applicationName, notificationId } of records) {
      try {
        await trx
          .insertInto(this.table.tableName)
          .values({ application_name: applicationName, notification_id: notificationId })
          .execute();
      } catch (error) {
        if (classify(error) === 'unique')
          throw new AlreadyProcessedError(applicationName, notificationId, { cause: error });
        throw this.failed(error);
      }
    }
  }

  private failed(error: unknown): unknown {
    return mapDriverError(this.datastore.settings, error, {
      write: false,
      what: `recording tracking in ${this.table.tableName}`,
    });
  }

  /**
   * Forgets every tracking row of `applicationName`, in one transaction with `run(trx)` (which resets
   * the read model): what rebuilding a projection from zero starts with.
   */
  async deleteTracking(
    applicationName: string,
    run?: (trx: Transaction<SchemalessDatabase>) => Promise<void> | void,
  ): Promise<void> {
    const name = validateTrackingName(applicationName);
    await this.datastore.use((connection) =>
      connection.transaction(
        async (trx) => {
          await asCaller(() => run?.(trx));
          await trx.deleteFrom(this.table.tableName).where('application_name', '=', name).execute();
        },
        `forgetting the tracking of ${JSON.stringify(name)}`,
      ),
    );
  }

  /** The highest notification id recorded for the application, or 0. */
  async maxTrackingId(applicationName: string): Promise<number> {
    const name = validateTrackingName(applicationName);
    return this.datastore.use(async (connection) => {
      this.maxStatement ??= connection.db
        .selectFrom(this.table.tableName)
        .select((eb) => eb.fn.max('notification_id').as('max'))
        .where('application_name', '=', name)
        .compile().sql;
      try {
        const [row] = await connection.select(this.maxStatement, [name]);
        return Number(row?.[0] ?? 0);
      } catch (error) {
        throw mapDriverError(this.datastore.settings, error, {
          write: false,
          what: `reading ${this.table.tableName}`,
        });
      }
    });
  }
}

/** How a transaction is named in messages (a commit whose outcome is unknown, say). */
export function describe(records: readonly Tracking[]): string {
  const { applicationName, notificationId } = records[0]!;
  const more = records.length > 1 ? ` (and ${records.length - 1} more)` : '';
  return `notification ${notificationId} of ${JSON.stringify(applicationName)}${more}`;
}
