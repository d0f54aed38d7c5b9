import { randomUUID } from 'node:crypto';
import { NotSupportedError, SequencedItem, ValidationError } from '@es/core';
import type { Kysely } from 'kysely';
import {
  AlreadyProcessedError,
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlTracking,
  SqlTrackingRecorder,
} from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';
import { faultyClient, userClient } from './faults.js';

describeEachDialect('tracking: exactly-once read models', (dialect) => {
  const events = SqlIntegerSequencedItem.withTableName(uniqueName('tracked_events'));
  const tracking = SqlTracking.withTableName(uniqueName('tracking'));
  const readModel = uniqueName('totals'); // a read model of the test's own: (name, n)
  // Hooks run in the order defined: the read model is dropped before the datastore closes.
  afterAll(async () => {
    await datastore().db.schema.dropTable(readModel).ifExists().execute();
  });
  const datastore = useDatastore(dialect, [events, tracking]);
  const recorder = () => new SqlTrackingRecorder({ datastore: datastore(), table: tracking });
  beforeAll(async () => {
    await datastore()
      .db.schema.createTable(readModel)
      .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
      .addColumn('n', 'integer', (c) => c.notNull())
      .execute();
  });

  /** A fresh counter in the read model, and a way to read it. */
  async function counter(): Promise<{
    name: string;
    value: () => Promise<number>;
    increment: (trx: Kysely<any>) => Promise<void>;
  }> {
    const name = randomUUID();
    await datastore().db.insertInto(readModel).values({ name, n: 0 }).execute();
    return {
      name,
      value: async () =>
        Number(
          (
            await datastore()
              .db.selectFrom(readModel)
              .select('n')
              .where('name', '=', name)
              .executeTakeFirstOrThrow()
          ).n,
        ),
      increment: async (trx) => {
        await trx
          .updateTable(readModel)
          .set((eb) => ({ n: eb('n', '+', 1) }))
          .where('name', '=', name)
          .execute();
      },
    };
  }

  it('processing the same notification twice is refused, and the read model is updated once', async () => {
    const r = recorder();
    const total = await counter();
    const app = `app-${randomUUID()}`;
    expect(await r.maxTrackingId(app)).toBe(0);

    expect(
      await r.processWithTracking(
        { applicationName: app, notificationId: 7 },
        async (trx) => (await total.increment(trx), 'done'),
      ),
    ).toBe('done');
    let calledAgain = false;
    const again = r.processWithTracking({ applicationName: app, notificationId: 7 }, async (trx) => {
      calledAgain = true;
      await total.increment(trx);
    });
    await expect(again).rejects.toBeInstanceOf(AlreadyProcessedError);
    await expect(again).rejects.toMatchObject({
      applicationName: app,
      notificationId: 7,
      name: 'AlreadyProcessedError',
    });
    expect(calledAgain).toBe(false);
    expect(await total.value()).toBe(1);
    expect(await r.maxTrackingId(app)).toBe(7);

    // Another application tracks its own notifications, even with the same id.
    await r.processWithTracking({ applicationName: `${app}-other`, notificationId: 7 }, total.increment);
    expect(await total.value()).toBe(2);
  });

  it('a page of tracking rows is one insert; one taken in the middle refuses the page, naming it, and keeps none', async () => {
    const own = userClient(dialect);
    const faulty = faultyClient(own.client);
    const store = await SqlDatastore.open({ client: faulty.client, tables: [events, tracking] });
    try {
      const r = new SqlTrackingRecorder({ datastore: store, table: tracking });
      const app = `app-${randomUUID()}`;
      const page = (ids: number[]) => ids.map((notificationId) => ({ applicationName: app, notificationId }));
      const inserts = () => faulty.statements.filter((s) => /insert into/i.test(s)).length;
      await r.processWithTracking(page([1, 2, 3, 4, 5]), () => undefined);
      expect(inserts()).toBe(1);
      expect(await r.maxTrackingId(app)).toBe(5);

      await r.processWithTracking(page([9]), () => undefined);
      let ran = false;
      const refused = r.processWithTracking(page([6, 7, 8, 9, 10]), () => {
        ran = true;
      });
      await expect(refused).rejects.toBeInstanceOf(AlreadyProcessedError);
      await expect(refused).rejects.toMatchObject({ applicationName: app, notificationId: 9 });
      expect(ran).toBe(false);
      expect(await r.maxTrackingId(app)).toBe(9); // 6, 7, 8 and 10 were not kept
      await r.processWithTracking(page([6, 7, 8, 10]), () => undefined);
      expect(await r.maxTrackingId(app)).toBe(10);
    } finally {
      await store.close();
      await own.end();
    }
  });

  it("a page of 40,000 tracking rows (past every dialect's parameter limit for one statement) is recorded", async () => {
    const r = recorder();
    const app = `app-${randomUUID()}`;
    const page = Array.from({ length: 40_000 }, (_, k) => ({ applicationName: app, notificationId: k + 1 }));
    await r.processWithTracking(page, () => undefined);
    expect(await r.maxTrackingId(app)).toBe(40_000);
    await expect(
      r.processWithTracking([{ applicationName: app, notificationId: 39_999 }], () => undefined),
    ).rejects.toBeInstanceOf(AlreadyProcessedError);
  }, 60_000);

  it('a failed read-model update rolls the tracking row back with it', async () => {
    const r = recorder();
    const total = await counter();
    const app = `app-${randomUUID()}`;
    await r.processWithTracking({ applicationName: app, notificationId: 1 }, total.increment);

    const failure = new Error('the read model update failed');
    await expect(
      r.processWithTracking({ applicationName: app, notificationId: 2 }, async (trx) => {
        await total.increment(trx);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await total.value()).toBe(1);
    expect(await r.maxTrackingId(app)).toBe(1);

    // A SQL error inside the update: rolled back too (on PostgreSQL the transaction is aborted).
    await expect(
      r.processWithTracking({ applicationName: app, notificationId: 2 }, async (trx) => {
        await total.increment(trx);
        await trx.insertInto(readModel).values({ name: total.name, n: 0 }).execute(); // duplicate key
      }),
    ).rejects.toHaveProperty('message', expect.stringMatching(/unique|duplicate/i)); // the driver's error, as it was
    expect(await total.value()).toBe(1);
    expect(await r.maxTrackingId(app)).toBe(1);

    // So notification 2 can be processed again, once.
    await r.processWithTracking({ applicationName: app, notificationId: 2 }, total.increment);
    expect(await total.value()).toBe(2);
    expect(await r.maxTrackingId(app)).toBe(2);
  });

  it('a swallowed SQL error cannot commit half a transaction (PostgreSQL aborts it: the commit is refused)', async () => {
    const r = recorder();
    const total = await counter();
    const app = `app-${randomUUID()}`;
    const attempt = r.processWithTracking({ applicationName: app, notificationId: 1 }, async (trx) => {
      await total.increment(trx);
      await trx
        .insertInto(readModel)
        .values({ name: total.name, n: 0 })
        .execute()
        .catch(() => undefined);
    });
    if (dialect.name === 'postgres') {
      await expect(attempt).rejects.toHaveProperty('name', 'AbortedTransactionError'); // Kysely's
      expect({ value: await total.value(), max: await r.maxTrackingId(app) }).toEqual({ value: 0, max: 0 });
    } else {
      // MySQL and SQLite undo only the failed statement: the rest commits, tracking included.
      await attempt;
      expect({ value: await total.value(), max: await r.maxTrackingId(app) }).toEqual({ value: 1, max: 1 });
    }
  });

  it('two processes racing for one notification: exactly one applies it', async () => {
    const r = recorder();
    const total = await counter();
    const app = `app-${randomUUID()}`;
    const outcomes = await Promise.allSettled(
      [0, 1, 2, 3].map(() =>
        r.processWithTracking({ applicationName: app, notificationId: 1 }, total.increment),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(errors.filter((e) => !(e instanceof AlreadyProcessedError))).toEqual([]);
    expect(await total.value()).toBe(1);
  });

  it('a projection that restarts from maxTrackingId applies every notification exactly once', async () => {
    const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table: events, tracking });
    const app = `projection-${randomUUID()}`;
    const ids = [randomUUID(), randomUUID()];
    const totals = await Promise.all(ids.map(() => counter()));
    const byId = new Map<string, (typeof totals)[number]>(ids.map((id, i) => [id, totals[i]!]));

    /** Applies the notifications after the recorded position; stops after `max` (a crash). */
    const project = async (max = Infinity): Promise<number> => {
      let applied = 0;
      const after = await strategy.maxTrackingId(app);
      for (const n of await strategy.selectNotifications(after + 1, 1000)) {
        const total = byId.get(n.sequenceId);
        if (total === undefined) continue;
        if (applied === max) return applied;
        await strategy.processWithTracking({ applicationName: app, notificationId: n.id }, total.increment);
        applied += 1;
      }
      return applied;
    };

    await strategy.append([0, 1, 2].map((p) => new SequencedItem(ids[0]!, p, 't', '{}')));
    await strategy.append([0, 1].map((p) => new SequencedItem(ids[1]!, p, 't', '{}')));
    expect(await project(2)).toBe(2); // stops half-way
    await strategy.append(new SequencedItem(ids[1]!, 2, 't', '{}'));
    expect(await project()).toBe(4);
    expect(await project()).toBe(0); // a restart applies nothing twice
    expect(await Promise.all(totals.map((t) => t.value()))).toEqual([3, 3]);
  });

  it('rejects bad tracking with ValidationError, before touching the database', async () => {
    const r = recorder();
    const never = async () => {
      throw new Error('must not run');
    };
    for (const bad of [
      { applicationName: '', notificationId: 1 },
      { applicationName: 'a\0b', notificationId: 1 },
      { applicationName: 'x'.repeat(256), notificationId: 1 },
      { applicationName: 'app', notificationId: 0 },
      { applicationName: 'app', notificationId: 1.5 },
      { applicationName: 'app', notificationId: Number.NaN },
    ]) {
      await expect(r.processWithTracking(bad, never)).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(r.maxTrackingId('')).rejects.toBeInstanceOf(ValidationError);
  });

  it('a strategy without a tracking table says so', async () => {
    const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table: events });
    await expect(strategy.maxTrackingId('app')).rejects.toBeInstanceOf(NotSupportedError);
    await expect(
      strategy.processWithTracking({ applicationName: 'app', notificationId: 1 }, async () => {}),
    ).rejects.toBeInstanceOf(NotSupportedError);
  });
});

describeEachDialect('tracking: reads while a tracking transaction is open', (dialect) => {
  const events = SqlIntegerSequencedItem.withTableName(uniqueName('open_trx_events'));
  const tracking = SqlTracking.withTableName(uniqueName('open_trx_tracking'));
  const datastore = useDatastore(dialect, [events, tracking]);

  it('the store can be read inside process(), and does not show the open transaction', async () => {
    const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table: events, tracking });
    const id = randomUUID();
    await strategy.append(new SequencedItem(id, 0, 't', '{}'));
    const app = `app-${randomUUID()}`;
    const seen = await strategy.processWithTracking(
      { applicationName: app, notificationId: 1 },
      async () => ({
        items: (await strategy.getItems(id)).length,
        max: await strategy.maxTrackingId(app), // the tracking row is not committed yet
      }),
    );
    expect(seen).toEqual({ items: 1, max: 0 });
    expect(await strategy.maxTrackingId(app)).toBe(1);
  });
});
