/**
 * Group commit against the databases (the committer's own rules are tested without one in
 * group-commit.test.ts): concurrent appends in one process share statements, and still each get
 * their own outcome, and a follower still sees every stored row, once, in id order.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, OutcomeUnknownError, SequencedItem } from '@es/core';
import { sql } from 'kysely';
import {
  type SqlDialectName,
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
} from '../src/index.js';
import { LOCK_NAMESPACE, lockKey } from '../src/postgres.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';
import { faults, faultyClient, userClient } from './faults.js';

/** The statement-level tests know PostgreSQL's grouped statement (mysql-appends and sqlite-appends test theirs). */
const STATEMENTS_OF: readonly SqlDialectName[] = ['postgres'];

const item = (sequenceId: string, position: number) =>
  new SequencedItem(sequenceId, position, 'test.Item', `{"p":${position}}`);

/** Each promise's outcome: 'stored', or the error it rejected with. */
function outcomes(promises: readonly Promise<unknown>[]): Promise<unknown[]> {
  return Promise.all(
    promises.map((p) =>
      p.then(
        () => 'stored',
        (error: unknown) => error,
      ),
    ),
  );
}

describeEachDialect('group commit: concurrent appends in one process', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('grouped'));
  const datastore = useDatastore(dialect, [table]);

  it('each append gets its own outcome, good and conflicting ones made together', async () => {
    const store = new SqlActiveRecordStrategy({ datastore: datastore(), table });
    const taken = [randomUUID(), randomUUID()];
    for (const id of taken) await store.append(item(id, 0));
    const good = Array.from({ length: 5 }, () => randomUUID());
    const gap = randomUUID();
    const appends = [
      store.append(item(good[0]!, 0)),
      store.append(item(taken[0]!, 0)),
      store.append([item(good[1]!, 0), item(good[1]!, 1)]),
      store.append(item(gap, 3)),
      store.append(item(good[2]!, 0)),
      store.append(item(taken[1]!, 0)),
      store.append(item(good[3]!, 0)),
      store.append(item(good[4]!, 0)),
    ];
    const results = await outcomes(appends);
    const refused = [1, 3, 5];
    results.forEach((result, i) => {
      if (refused.includes(i)) expect(result).toBeInstanceOf(ConcurrencyError);
      else expect(result).toBe('stored');
    });
    expect(results.map((r) => (r instanceof ConcurrencyError ? r.sequenceId : undefined))).toEqual([
      undefined,
      taken[0],
      undefined,
      gap,
      undefined,
      taken[1],
      undefined,
      undefined,
    ]);
    for (const id of good) expect((await store.getItems(id)).length).toBe(id === good[1] ? 2 : 1);
    for (const id of taken) expect((await store.getItems(id)).map((i) => i.data)).toEqual(['{"p":0}']);
    expect(await store.getItems(gap)).toEqual([]);
  });

  it('a follower reading while 8 writers append sees every stored row, once, in id order', async () => {
    const store = new SqlActiveRecordStrategy({ datastore: datastore(), table });
    const start = (await store.maxNotificationId()) + 1;
    const writers = Array.from({ length: 8 }, () => randomUUID());
    const appends = 25;
    let writing = true;
    const seen: { id: number; sequenceId: string; position: number }[] = [];
    const follower = (async () => {
      let next = start;
      for (let last = false; !last;) {
        last = !writing; // one more pass after the writers finish
        for (const n of await store.selectNotifications(next, 1000)) {
          seen.push(n);
          next = n.id + 1;
        }
      }
    })();
    await Promise.all(
      writers.map(async (id) => {
        for (let p = 0; p < appends; p++) await store.append(item(id, p));
      }),
    ).finally(() => (writing = false));
    await follower;
    // Every stored row was seen, once, in id order. Ids themselves may have gaps (an id drawn by a refused
    // statement is not used again: MariaDB's auto-increment after the refused appends of the test above),
    // so the follower is compared with the table read afterwards, not with a run of consecutive ids.
    const stored = await store.selectNotifications(start, 10_000);
    expect(seen.map((n) => n.id)).toEqual(stored.map((n) => n.id));
    expect(seen.map((n) => n.id)).toEqual([...seen.map((n) => n.id)].sort((a, b) => a - b));
    expect(seen).toHaveLength(writers.length * appends);
    for (const id of writers) {
      expect(seen.filter((n) => n.sequenceId === id).map((n) => n.position)).toEqual(
        Array.from({ length: appends }, (_, p) => p),
      );
    }
  });
});

describeEachDialect(
  'group commit: the statements',
  (dialect) => {
    const table = SqlIntegerSequencedItem.withTableName(uniqueName('grouped_statements'));
    const direct = useDatastore(dialect, [table]);

    /** A datastore over a pool of the test's own, whose statements are recorded. */
    async function recorded() {
      const own = userClient(dialect, { poolSize: 10 });
      const faulty = faultyClient(own.client);
      const datastore = await SqlDatastore.open({ client: faulty.client, tables: [table] });
      const inserts = () => faulty.statements.filter((s) => /insert into/i.test(s)).length;
      return {
        faulty,
        inserts,
        store: new SqlActiveRecordStrategy({ datastore, table }),
        close: async () => (await datastore.close(), await own.end()),
      };
    }

    it('8 writers on their own streams commit in fewer statements than appends', async () => {
      const { inserts, store, close } = await recorded();
      try {
        const writers = Array.from({ length: 8 }, () => randomUUID());
        await Promise.all(
          writers.map(async (id) => {
            for (let p = 0; p < 20; p++) await store.append(item(id, p));
          }),
        );
        expect(inserts()).toBeLessThan(writers.length * 20);
        for (const id of writers) expect((await store.getItems(id)).length).toBe(20);
      } finally {
        await close();
      }
    });

    it("a group's lost connection is every one of its callers' OutcomeUnknownError, and only theirs", async () => {
      const { faulty, store, close } = await recorded();
      try {
        const ids = Array.from({ length: 5 }, () => randomUUID());
        // The first two go alone (two groups may be in flight); the other three queue behind them and go
        // as one statement, whose answer is lost after the server applied it.
        faulty.inject(/distinct sequence_id/, faults(dialect.name).appliedThenLost);
        const results = await outcomes(ids.map((id) => store.append(item(id, 0))));
        expect(results.slice(0, 2)).toEqual(['stored', 'stored']);
        for (const result of results.slice(2)) expect(result).toBeInstanceOf(OutcomeUnknownError);
        for (const id of ids) expect((await store.getItems(id)).length).toBe(1); // applied
      } finally {
        await close();
      }
    });

    it("another process's write that takes a position in a group: the statement stores none of it", async () => {
      const store = new SqlActiveRecordStrategy({ datastore: direct(), table });
      const [contested, a, b] = [randomUUID(), randomUUID(), randomUUID()];
      await store.append(item(contested, 0));
      const connection = await direct().connection();
      // Another process holds the ordering lock, having inserted the contested position, and commits
      // only after the group's statement has started (and taken its snapshot): the statement's check
      // passes, and its insert meets the primary key.
      const other = direct().transaction(async (trx) => {
        await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_NAMESPACE)}, ${sql.lit(lockKey(table.tableName))})`.execute(
          trx,
        );
        await trx
          .insertInto(table.tableName)
          .values({ sequence_id: contested, position: 1, topic: 'test.Item', data: '{}' })
          .execute();
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const group = connection.insertBatches!(table, [[item(a, 0)], [item(contested, 1)], [item(b, 0)]]);
      await other;
      await expect(group).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await store.getItems(a)).toEqual([]); // the whole statement was rolled back
      expect(await store.getItems(b)).toEqual([]);
    });

    it('a group refused for a position taken, not saying whose, is appended one by one', async () => {
      const { faulty, store, close } = await recorded();
      try {
        const [contested, a, b, c] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
        await store.append(item(contested, 0));
        // What PostgreSQL answers when another process took a position after the statement's snapshot.
        faulty.inject(/distinct sequence_id/, async () => {
          throw Object.assign(new Error('duplicate key value violates unique constraint'), {
            code: '23505',
          });
        });
        const results = await outcomes([
          store.append(item(c, 0)),
          store.append(item(a, 0)),
          store.append(item(contested, 0)),
          store.append(item(b, 0)),
        ]);
        expect(results.map((r) => (r instanceof ConcurrencyError ? r.sequenceId : r))).toEqual([
          'stored',
          'stored',
          contested,
          'stored',
        ]);
        const grouped = faulty.statements.filter((s) => /distinct sequence_id/.test(s)).length;
        expect(grouped).toBe(1);
      } finally {
        await close();
      }
    });
  },
  { only: STATEMENTS_OF },
);
