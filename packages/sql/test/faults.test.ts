/**
 * Every way a statement can fail at the driver boundary gets a typed outcome: a write whose outcome is
 * unknown is an OutcomeUnknownError (and really may have been applied), a read or a connection that
 * could not be made is a StoreConnectionError, a lock wait that ran out a LockTimeoutError. The faults
 * are injected through the datastore's `client` option (see faults.ts).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotificationLogReader, OutcomeUnknownError, SequencedItem, StoreConnectionError } from '@es/core';
import { sql } from 'kysely';
import {
  LockTimeoutError,
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlTracking,
  SqlTrackingRecorder,
} from '../src/index.js';
import { LOCK_NAMESPACE, lockKey } from '../src/postgres.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';
import { type FaultyClient, faults, faultyClient, userClient } from './faults.js';

const item = (id: string, position: number) =>
  new SequencedItem(id, position, 'test.Item', `{"p":${position}}`);

/** What a promise rejected with (it must reject). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

// The statements to aim at: the append (one insert), the store's reads, a transaction's commit.
const APPEND = /^(with ordering as .*)?insert into/i;
const READ = /^select/i;
const COMMIT = /^commit$/i;

describeEachDialect(
  'faults of the network and the server, through a pool of your own',
  (dialect) => {
    const table = SqlIntegerSequencedItem.withTableName(uniqueName('faults'));
    const tracking = SqlTracking.withTableName(uniqueName('faults_tracking'));
    const direct = useDatastore(dialect, [table, tracking]);
    const fault = faults(dialect.name);
    let own: ReturnType<typeof userClient>;
    let faulty: FaultyClient;
    let datastore: SqlDatastore;
    let store: SqlActiveRecordStrategy<SequencedItem, 'integer'>;
    /** What is stored, read past the faults. */
    const stored = async (id: string) =>
      (await new SqlActiveRecordStrategy({ datastore: direct(), table }).getItems(id)).map((i) => i.position);

    beforeAll(async () => {
      own = userClient(dialect, { poolSize: 1 });
      faulty = faultyClient(own.client);
      datastore = await SqlDatastore.open({ client: faulty.client, tables: [table, tracking] });
      store = new SqlActiveRecordStrategy({ datastore, table });
    });
    afterAll(async () => {
      await datastore?.close();
      await own?.end();
    });

    it('an append applied, then the connection lost: OutcomeUnknownError, and it was written', async () => {
      const id = randomUUID();
      faulty.inject(APPEND, fault.appliedThenLost);
      const error = await rejection(store.append(item(id, 0)));
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect((error as Error).message).toMatch(/outcome is unknown, read before retrying/);
      expect(await stored(id)).toEqual([0]);
      await store.append(item(id, 1)); // the pool replaced the lost connection
      expect(await stored(id)).toEqual([0, 1]);
    });

    it('an append lost before it was sent: still OutcomeUnknownError (the client cannot tell), and nothing written', async () => {
      const id = randomUUID();
      faulty.inject(APPEND, fault.lostBeforeSent);
      expect(await rejection(store.append(item(id, 0)))).toBeInstanceOf(OutcomeUnknownError);
      expect(await stored(id)).toEqual([]);
      await store.append(item(id, 0)); // so the retry, after reading, succeeds
    });

    it("an append applied, then the driver's query timeout: OutcomeUnknownError, and it was written", async () => {
      const id = randomUUID();
      faulty.inject(APPEND, fault.appliedThenTimedOut);
      const error = await rejection(store.append(item(id, 0)));
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect((error as Error).message).toMatch(/no answer before the driver's timeout/);
      expect(await stored(id)).toEqual([0]);
    });

    it('a read whose connection is lost, or whose answer times out: StoreConnectionError', async () => {
      const id = randomUUID();
      await store.append(item(id, 0));
      for (const f of [fault.appliedThenLost, fault.lostBeforeSent, fault.appliedThenTimedOut]) {
        faulty.inject(READ, f);
        expect(await rejection(store.getItems(id))).toBeInstanceOf(StoreConnectionError);
        faulty.inject(READ, f);
        expect(await rejection(new NotificationLogReader(store).maxNotificationId())).toBeInstanceOf(
          StoreConnectionError,
        );
      }
      expect((await store.getItems(id)).map((i) => i.position)).toEqual([0]);
    });

    it('a pool that cannot open a connection: StoreConnectionError for a write too (nothing was sent)', async () => {
      const id = randomUUID();
      faulty.injectConnect(fault.refused);
      const error = await rejection(store.append(item(id, 0)));
      expect(error).toBeInstanceOf(StoreConnectionError);
      expect(error).not.toBeInstanceOf(OutcomeUnknownError);
      faulty.injectConnect(fault.refused);
      expect(await rejection(store.getItems(id))).toBeInstanceOf(StoreConnectionError);
      expect(await stored(id)).toEqual([]);
    });

    it('a tracking commit applied, then the connection lost: OutcomeUnknownError, and it committed', async () => {
      const recorder = new SqlTrackingRecorder({ datastore, table: tracking });
      const app = `app-${randomUUID()}`;
      faulty.inject(COMMIT, fault.appliedThenLost);
      const error = await rejection(
        recorder.processWithTracking({ applicationName: app, notificationId: 7 }, async () => {}),
      );
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect(await new SqlTrackingRecorder({ datastore: direct(), table: tracking }).maxTrackingId(app)).toBe(
        7,
      );
    });

    it("the store's appends went through the user's pool as one prepared text", () => {
      const appends = faulty.statements.filter((s) => APPEND.test(s) && s.includes(table.tableName));
      expect(appends.length).toBeGreaterThanOrEqual(6);
      expect(new Set(appends).size).toBe(1);
    });
  },
  { only: ['postgres', 'mysql'] },
);

describeEachDialect(
  'a SQLite database locked by another connection',
  (dialect) => {
    const table = SqlIntegerSequencedItem.withTableName(uniqueName('busy'));
    it('an append that finds the database busy: LockTimeoutError, and nothing written', async () => {
      const own = userClient(dialect);
      const faulty = faultyClient(own.client);
      const datastore = await SqlDatastore.open({ client: faulty.client, tables: [table] });
      try {
        const store = new SqlActiveRecordStrategy({ datastore, table });
        const id = randomUUID();
        await store.append(item(id, 0));
        faulty.inject(/^insert into/, faults('sqlite').busy);
        const error = await rejection(store.append([item(id, 1), item(id, 2)]));
        expect(error).toBeInstanceOf(LockTimeoutError);
        expect((error as Error).message).toMatch(/nothing was written/);
        expect((await store.getItems(id)).map((i) => i.position)).toEqual([0]);
        await datastore.dropTables();
      } finally {
        await datastore.close();
        await own.end();
      }
    });
  },
  { only: ['sqlite'] },
);

describeEachDialect(
  "an answer that never comes, bounded by the pool's own query timeout",
  (dialect) => {
    const table = SqlIntegerSequencedItem.withTableName(uniqueName('never'));
    const direct = useDatastore(dialect, [table]);

    it('an append stuck behind a lock past query_timeout: OutcomeUnknownError, and it commits later', async () => {
      // A real node-postgres timeout: the append waits for the table's ordering lock, which another
      // session holds, and the driver stops waiting; the statement itself is still queued on the server.
      const own = userClient(dialect, { queryTimeoutMs: 300 });
      const datastore = await SqlDatastore.open({ client: own.client, tables: [table] });
      const id = randomUUID();
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holder = direct().transaction(async (trx) => {
        await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_NAMESPACE)}, ${sql.lit(lockKey(table.tableName))})`.execute(
          trx,
        );
        locked();
        await released;
      });
      try {
        await isLocked;
        const store = new SqlActiveRecordStrategy({ datastore, table });
        const error = await rejection(store.append(item(id, 0)));
        expect(error).toBeInstanceOf(OutcomeUnknownError);
        const reader = new SqlActiveRecordStrategy({ datastore: direct(), table });
        expect(await reader.getItems(id)).toEqual([]); // not yet...
        release();
        await holder;
        let positions: number[] = [];
        for (let i = 0; i < 50 && positions.length === 0; i++) {
          positions = (await reader.getItems(id)).map((p) => p.position);
          if (positions.length === 0) await sleep(100);
        }
        expect(positions).toEqual([0]); // ...but it was applied: the outcome really was unknown
      } finally {
        release();
        await holder.catch(() => {});
        await datastore.close();
        await own.end();
      }
    });
  },
  { only: ['postgres'] },
);
