/**
 * Issue 10, defect 8, against the real servers: a statement cancelled by the database (PostgreSQL's
 * pg_cancel_backend, MariaDB's KILL QUERY) is a StatementCancelledError with nothing written; a
 * connection terminated under a statement (pg_terminate_backend, KILL) is an OutcomeUnknownError for an
 * append and a StoreConnectionError before a tracking commit. Each statement is caught while it waits
 * for a lock another session holds, so the fault surely lands during it; every outcome is typed, nothing
 * acknowledged is lost, and the store takes the next append within a bounded time.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutcomeUnknownError, SequencedItem, StoreConnectionError } from '@es/core';
import { type Transaction, sql } from 'kysely';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlTracking,
  SqlTrackingRecorder,
  StatementCancelledError,
} from '../src/index.js';
import { LOCK_NAMESPACE, lockKey } from '../src/postgres.js';
import { type TestDialect, describeEachDialect, uniqueName, useDatastore } from './dialects.js';

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

describeEachDialect(
  'statements cancelled and connections terminated by the server',
  (dialect: TestDialect) => {
    const table = SqlIntegerSequencedItem.withTableName(uniqueName('killed'));
    const tracking = SqlTracking.withTableName(uniqueName('killed_tracking'));
    const direct = useDatastore(dialect, [table, tracking]);
    const postgres = dialect.name === 'postgres';
    let datastore: SqlDatastore;
    beforeAll(async () => {
      datastore = new SqlDatastore({
        settings: dialect.settings({ poolSize: 2 }),
        tables: [table, tracking],
      });
      await datastore.setupConnection();
    });
    afterAll(() => datastore?.close());

    /** Holds a lock in another session while `during` runs, then releases it (rolls back). */
    async function holding(
      lock: (trx: Transaction<any>) => Promise<unknown>,
      during: () => Promise<void>,
    ): Promise<void> {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holder = direct()
        .transaction(async (trx) => {
          await lock(trx);
          locked();
          await released;
          throw new Error('roll back');
        })
        .catch(() => {});
      await isLocked;
      try {
        await during();
      } finally {
        release();
        await holder;
      }
    }

    const holdAppendLock = (trx: Transaction<any>) =>
      postgres
        ? sql`select pg_advisory_xact_lock(${sql.lit(LOCK_NAMESPACE)}, ${sql.lit(lockKey(table.tableName))})`.execute(
            trx,
          )
        : sql`select id from ${sql.table(table.lockTableName)} where id = 1 for update`.execute(trx);

    /** The server's id of the session running a statement on `tableName`, once it waits. */
    async function waitingSession(tableName: string): Promise<number> {
      for (let i = 0; i < 100; i++) {
        const { rows } = postgres
          ? await sql<{ id: number }>`select pid as id from pg_stat_activity
              where state = 'active' and wait_event_type = 'Lock' and query like ${`%insert into "${tableName}"%`}`.execute(
              direct().db,
            )
          : await sql<{ id: number }>`select id from information_schema.processlist
              where info like ${`%insert into \`${tableName}\`%`} and id <> connection_id()`.execute(
              direct().db,
            );
        if (rows.length === 1) return Number(rows[0]!.id);
        await sleep(50);
      }
      throw new Error(`no session waiting on ${tableName}`);
    }

    const cancel = (id: number) =>
      postgres
        ? sql`select pg_cancel_backend(${id})`.execute(direct().db)
        : sql.raw(`kill query ${id}`).execute(direct().db);
    const terminate = (id: number) =>
      postgres
        ? sql`select pg_terminate_backend(${id})`.execute(direct().db)
        : sql.raw(`kill ${id}`).execute(direct().db);

    const store = () => new SqlActiveRecordStrategy({ datastore, table });
    const stored = async (id: string) =>
      (await new SqlActiveRecordStrategy({ datastore: direct(), table }).getItems(id)).map((i) => i.position);

    /**
     * The store takes an append again. Bounded without a clock: a broken connection left in the pool
     * would reject it (StoreConnectionError, OutcomeUnknownError), a lock left held would make it wait
     * out lockTimeoutMs and reject with LockTimeoutError.
     */
    async function recovers(id: string, position: number): Promise<void> {
      const appended = await store()
        .append(new SequencedItem(id, position, 'test.Item', '{}'))
        .then(
          () => 'appended',
          (error: unknown) => error,
        );
      expect(appended).toBe('appended');
    }

    for (const [name, fault, expected] of [
      ['cancelled', cancel, StatementCancelledError],
      ['terminated', terminate, OutcomeUnknownError],
    ] as const) {
      it(`an append whose statement is ${name}: ${expected.name}, nothing written, then the store recovers`, async () => {
        const id = randomUUID();
        await store().append(new SequencedItem(id, 0, 'test.Item', '{}'));
        let error: unknown;
        await holding(holdAppendLock, async () => {
          const append = outcome(store().append(new SequencedItem(id, 1, 'test.Item', '{}')));
          await fault(await waitingSession(table.tableName));
          error = await append;
        });
        expect(error).toBeInstanceOf(expected);
        expect((error as Error).message).toMatch(
          name === 'cancelled'
            ? /was cancelled by the database .*; nothing was written/
            : /was lost during .*: the outcome is unknown/,
        );
        expect(await stored(id)).toEqual([0]);
        await recovers(id, 1);
        expect(await stored(id)).toEqual([0, 1]);
      });

      it(`a tracking transaction whose insert is ${name}: typed, nothing recorded, then it records`, async () => {
        const recorder = new SqlTrackingRecorder({ datastore, table: tracking });
        const app = `app-${randomUUID()}`;
        let error: unknown;
        await holding(
          (trx) =>
            trx
              .insertInto(tracking.tableName)
              .values({ application_name: app, notification_id: 1 })
              .execute(),
          async () => {
            const attempt = outcome(
              recorder.processWithTracking({ applicationName: app, notificationId: 1 }, async () => {}),
            );
            await fault(await waitingSession(tracking.tableName));
            error = await attempt;
          },
        );
        expect(error).toBeInstanceOf(name === 'cancelled' ? StatementCancelledError : StoreConnectionError);
        expect((error as Error).message).toMatch(
          name === 'cancelled' ? /was cancelled by the database/ : /was lost during /,
        );
        const reader = new SqlTrackingRecorder({ datastore: direct(), table: tracking });
        expect(await reader.maxTrackingId(app)).toBe(0);
        await recorder.processWithTracking({ applicationName: app, notificationId: 1 }, async () => {});
        expect(await reader.maxTrackingId(app)).toBe(1);
      });
    }
  },
  { only: ['postgres', 'mysql'] },
);
