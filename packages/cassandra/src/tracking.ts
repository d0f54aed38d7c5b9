import {
  AlreadyProcessedError,
  ConcurrencyError,
  OutcomeUnknownError,
  type ProjectionRecorder,
  StoreConnectionError,
  type Tracking,
} from '@es/core';
import { assertIdentifier, validateTrackingList, validateTrackingName } from '@es/core/backend';
import type { types } from 'cassandra-driver';
import {
  type CassandraDatastore,
  type CqlSession,
  awaitSchemaAgreement,
  connectionError,
  defaultSession,
} from './datastore.js';
import { NEVER_RETRY, explain, outcomeMayBeUnknown } from './outcome.js';
import { toNumber } from './bound-table.js';

/** The notification id of deleteTracking's fence row: notification ids start at 1. */
const FENCE = 0;
/** Tries of deleteTracking's two steps before its error is the caller's. */
const DELETE_ATTEMPTS = 3;

export interface CassandraTrackingRecorderOptions {
  /** Default `tracking`. A plain identifier. */
  tableName?: string;
  datastore?: CassandraDatastore;
  session?: CqlSession;
}

/**
 * Tracking for a read model kept in Cassandra. Cassandra cannot commit a read model's writes and a
 * tracking row together (they are different partitions), so what this recorder guarantees is exactly:
 *
 * - **Tracking is exactly-once.** A notification's tracking row is written with a lightweight
 *   transaction (`IF NOT EXISTS`): of competing copies of a follower, exactly one records it, and the
 *   others get AlreadyProcessedError. `maxTrackingId` reads at SERIAL.
 * - **Effects are at-least-once.** `run` is called before the tracking row is written, and is not
 *   called for a notification already tracked when the call starts. A crash (or a failed tracking
 *   write) after `run` leaves the notification untracked: the follower processes it again, so `run`'s
 *   effects may be applied twice, and so may those of two competing copies racing on one notification.
 *
 * So a read model is exact when its effects are idempotent: upserts keyed by what they describe
 * (the notification id, or the event's sequence and position), never increments. For exactly-once
 * effects that are not idempotent, keep the read model in SQL with @es/sql's SqlTrackingRecorder (a
 * read model fed from Cassandra's feed is then exactly-once: the tracking row and the effects commit in
 * one SQL transaction).
 *
 * The handle `run` gets is the session (client, keyspace, settings).
 */
export class CassandraTrackingRecorder implements ProjectionRecorder<CqlSession> {
  readonly tableName: string;
  readonly #session: CqlSession | undefined;
  private readonly datastore: CassandraDatastore | undefined;

  constructor(options: CassandraTrackingRecorderOptions = {}) {
    this.tableName = assertIdentifier(options.tableName ?? 'tracking', 'tableName').toLowerCase();
    this.#session = options.session;
    this.datastore = options.datastore;
  }

  private get session(): CqlSession {
    return this.#session ?? this.datastore?.session ?? defaultSession();
  }

  private get ref(): string {
    return `${this.session.keyspace}.${this.tableName}`;
  }

  /** Creates the tracking table if it does not exist. */
  async setupTable(): Promise<void> {
    await this.run(
      `CREATE TABLE IF NOT EXISTS ${this.ref} (application_name text, notification_id bigint, PRIMARY KEY (application_name, notification_id)) WITH CLUSTERING ORDER BY (notification_id DESC)`,
      [],
      this.session.settings.consistencyCodes.write,
    );
    await awaitSchemaAgreement(this.session.client);
  }

  async maxTrackingId(applicationName: string): Promise<number> {
    const name = validateTrackingName(applicationName);
    const result = await this.run(
      `SELECT notification_id FROM ${this.ref} WHERE application_name = ? LIMIT 1`,
      [name],
      this.session.settings.consistencyCodes.serial,
    );
    const id = result.first()?.get('notification_id') as types.Long | null | undefined;
    return id == null ? 0 : toNumber(id);
  }

  /**
   * Refuses (AlreadyProcessedError, before `run`) a notification already tracked; otherwise runs
   * `run(session)`, then records each notification with a lightweight transaction. A record another
   * copy wrote first is AlreadyProcessedError (after `run`: its effects must be idempotent).
   */
  async processWithTracking<T>(
    tracking: Tracking | readonly Tracking[],
    run: (session: CqlSession) => Promise<T> | T,
  ): Promise<T> {
    const records = validateTrackingList(tracking);
    for (const record of records)
      if (await this.tracked(record))
        throw new AlreadyProcessedError(record.applicationName, record.notificationId);
    const result = await run(this.session);
    for (const record of records) await this.record(record);
    return result;
  }

  /**
   * Runs `run(session)` (deleting the read model, say), then forgets every record under the name.
   *
   * The records are written by lightweight transaction, so their write timestamps are their coordinators'
   * Paxos ballots, on the nodes' clocks. A plain DELETE would take the client's clock (the driver's
   * timestamp): a client behind the node that wrote a record deletes nothing (the read model is rebuilt
   * without the notifications still tracked), and one ahead hides the records written after it until its
   * clock is caught up with (a notification is recorded, and its effects run, again and again). So the
   * partition is deleted in a lightweight transaction too, whose ballot Paxos orders after every record
   * already written and before every record written later, whatever the clocks say. A conditional batch
   * needs a condition: the insert of a fence row (notification 0, which no notification can be), which a
   * second lightweight transaction deletes (the batch's deletion is stamped just below its ballot, so the
   * fence it inserts survives it). A fence left by a failure in between is deleted by the next call, and
   * is never a notification (maxTrackingId reads past it). Both steps are safe to repeat: a step whose
   * outcome is unknown (a timeout) is run again, up to three tries, then an OutcomeUnknownError; a fence
   * found three times (other deleteTracking calls of the name at once) is a ConcurrencyError.
   */
  async deleteTracking(
    applicationName: string,
    run?: (session: CqlSession) => Promise<void> | void,
  ): Promise<void> {
    const name = validateTrackingName(applicationName);
    await run?.(this.session);
    for (let attempt = 1; ; attempt++) {
      let forgotten: boolean;
      try {
        forgotten = await this.conditional([
          {
            query: `INSERT INTO ${this.ref} (application_name, notification_id) VALUES (?, ?) IF NOT EXISTS`,
            params: [name, FENCE],
          },
          { query: `DELETE FROM ${this.ref} WHERE application_name = ?`, params: [name] },
        ]);
        await this.conditional([
          {
            query: `DELETE FROM ${this.ref} WHERE application_name = ? AND notification_id = ? IF EXISTS`,
            params: [name, FENCE],
          },
        ]);
      } catch (error) {
        // Both steps are safe to run again: a timeout's outcome is settled by the next attempt.
        if (error instanceof OutcomeUnknownError && attempt < DELETE_ATTEMPTS) continue;
        throw error;
      }
      // Not applied: a fence was there (another deleteTracking of the name, or an interrupted one), and is
      // gone now.
      if (forgotten) return;
      if (attempt >= DELETE_ATTEMPTS) {
        throw new ConcurrencyError(
          `the tracking records of ${JSON.stringify(name)} were not deleted: its fence row (notification 0) was there ${attempt} times; another deleteTracking of the same name is running`,
        );
      }
    }
  }

  /** A lightweight transaction's options: never resent by the driver (its outcome is settled by us). */
  private lwtOptions() {
    const { settings } = this.session;
    return {
      prepare: true,
      consistency: settings.consistencyCodes.write,
      serialConsistency: settings.consistencyCodes.serial,
      readTimeout: settings.requestTimeoutMs,
      isIdempotent: false,
      retry: NEVER_RETRY,
    };
  }

  /**
   * One lightweight transaction (a conditional batch): whether it applied. A failure that may have applied
   * is an OutcomeUnknownError, any other a connection error.
   */
  private async conditional(statements: { query: string; params: unknown[] }[]): Promise<boolean> {
    const { settings } = this.session;
    try {
      const options = this.lwtOptions();
      const result =
        statements.length === 1
          ? await this.session.client.execute(statements[0]!.query, statements[0]!.params, options)
          : await this.session.client.batch(statements, { ...options, logged: true });
      return result.wasApplied();
    } catch (error) {
      if (!outcomeMayBeUnknown(error)) throw connectionError(error, settings);
      throw new OutcomeUnknownError(
        `deleting tracking records: a lightweight transaction's outcome is unknown (${explain(error)}); deleteTracking is safe to call again`,
        { cause: error },
      );
    }
  }

  private async tracked(record: Tracking): Promise<boolean> {
    const result = await this.run(
      `SELECT notification_id FROM ${this.ref} WHERE application_name = ? AND notification_id = ?`,
      [record.applicationName, record.notificationId],
      this.session.settings.consistencyCodes.serial,
    );
    return result.first() != null;
  }

  private async record(record: Tracking): Promise<void> {
    const { settings } = this.session;
    try {
      const result = await this.session.client.execute(
        `INSERT INTO ${this.ref} (application_name, notification_id) VALUES (?, ?) IF NOT EXISTS`,
        [record.applicationName, record.notificationId],
        this.lwtOptions(),
      );
      if (!result.wasApplied())
        throw new AlreadyProcessedError(record.applicationName, record.notificationId);
    } catch (error) {
      if (error instanceof AlreadyProcessedError) throw error;
      if (!outcomeMayBeUnknown(error)) throw connectionError(error, settings);
      // Unknown outcome: a SERIAL read completes the round. Tracked now (by this call or a competitor):
      // the notification is processed and its effects applied, which is all a caller can act on.
      let tracked: boolean;
      try {
        tracked = await this.tracked(record);
      } catch (cause) {
        throw new OutcomeUnknownError(
          `the tracking of notification ${record.notificationId} of ${JSON.stringify(record.applicationName)} may or may not be recorded (${explain(error)}; the SERIAL read failed too: ${explain(cause)}); its effects were applied: processing it again is safe when they are idempotent`,
          { cause: error },
        );
      }
      if (tracked) return;
      throw new StoreConnectionError(
        `the tracking of notification ${record.notificationId} of ${JSON.stringify(record.applicationName)} was not recorded (${explain(error)}); its effects were applied: processing it again is safe when they are idempotent`,
        { cause: error },
      );
    }
  }

  private async run(cql: string, params: unknown[], consistency: number): Promise<types.ResultSet> {
    try {
      return await this.session.client.execute(cql, params, {
        prepare: true,
        consistency,
        readTimeout: this.session.settings.requestTimeoutMs,
        isIdempotent: true,
      });
    } catch (error) {
      throw connectionError(error, this.session.settings);
    }
  }
}
