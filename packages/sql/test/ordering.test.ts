import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Notification, SequencedItem } from '@es/core';
import { sql } from 'kysely';
import {
  LockTimeoutError,
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
} from '../src/index.js';
import { LOCK_NAMESPACE, lockKey } from '../src/postgres.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

/**
 * White-box tests of the ordering design (the conformance suite tests its outcome): a writer that
 * has drawn ids but not yet committed holds the table's ordering lock, so an append waits for its
 * commit and draws later ids. Without the lock, an append would commit first with higher ids, and a
 * follower past them would never see the slow writer's rows.
 */
describeEachDialect('ordering: appends wait for a writer that has not committed', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('ordering'));
  const datastore = useDatastore(dialect, [table]);

  /**
   * A slow writer: takes the lock as an append does, inserts a row (drawing an id), and commits (or
   * rolls back) only when told to.
   */
  async function slowWriter(
    on: SqlDatastore,
    sequenceId: string,
  ): Promise<{ commit(): Promise<void>; rollback(): Promise<void> }> {
    let finish!: (commit: boolean) => void;
    const finished = new Promise<boolean>((resolve) => (finish = resolve));
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const done = on.transaction(async (trx) => {
      if (dialect.name === 'postgres')
        await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_NAMESPACE)}, ${sql.lit(lockKey(table.tableName))})`.execute(
          trx,
        );
      if (dialect.name === 'mysql')
        await sql`select id from ${sql.table(table.lockTableName)} where id = 1 for update`.execute(trx);
      // SQLite: the insert takes the file's write lock (and, in process, the writing connection).
      await trx
        .insertInto(table.tableName)
        .values({ sequence_id: sequenceId, position: 0, topic: 'slow', data: '{}' })
        .execute();
      started();
      if (!(await finished)) throw new Error('rolled back on purpose');
    });
    await Promise.race([ready, done]);
    return {
      commit: async () => (finish(true), await done),
      rollback: async () => (finish(false), await done.catch(() => undefined)),
    };
  }

  it('an append waits for the slow writer to commit, then gets later notification ids', async () => {
    const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table });
    const mark = await strategy.maxNotificationId();
    const slow = randomUUID();
    const fast = randomUUID();
    const writer = await slowWriter(datastore(), slow);
    let appended = false;
    const append = strategy
      .append([0, 1, 2].map((p) => new SequencedItem(fast, p, 'fast', '{}')))
      .then(() => (appended = true));
    // MySQL: a follower's read is a locking read, which waits for the slow writer's row (see
    // FOLLOWER_READ_LOCK in src/mysql.ts); elsewhere it does not see it yet.
    let waitingRead: Promise<Notification[]> | undefined;
    try {
      await sleep(500);
      expect(appended).toBe(false);
      if (dialect.name === 'mysql') {
        waitingRead = strategy.selectNotifications(mark + 1, 100);
        waitingRead.catch(() => {}); // awaited below; an expect failing before then must not leave it unhandled
      } else expect(await strategy.selectNotifications(mark + 1, 100)).toEqual([]); // a follower sees neither yet
      expect(appended).toBe(false);
    } finally {
      await writer.commit();
    }
    await append;
    const log = await strategy.selectNotifications(mark + 1, 100);
    // It returns the slow writer's row first, and of the rest what had committed by then.
    if (waitingRead !== undefined) {
      const seen = await waitingRead;
      expect(seen.length).toBeGreaterThan(0);
      expect(log.slice(0, seen.length)).toEqual(seen);
    }
    expect(log.map((n) => [n.sequenceId, n.position])).toEqual([
      [slow, 0],
      [fast, 0],
      [fast, 1],
      [fast, 2],
    ]);
  });

  it('an append that waits longer than lockTimeoutMs fails with LockTimeoutError and writes nothing', async () => {
    const impatient = new SqlDatastore({
      settings: dialect.settings({ lockTimeoutMs: dialect.name === 'mysql' ? 1000 : 200 }),
      tables: [table],
    });
    const strategy = new SqlActiveRecordStrategy({ datastore: impatient, table });
    const mark = await strategy.maxNotificationId();
    const id = randomUUID();
    // SQLite: the slow writer's own connection holds the file's write lock; the other connection waits.
    const writer = await slowWriter(datastore(), randomUUID());
    try {
      const started = Date.now();
      await expect(strategy.append(new SequencedItem(id, 0, 't', '{}'))).rejects.toBeInstanceOf(
        LockTimeoutError,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    } finally {
      await writer.rollback();
    }
    try {
      expect(await strategy.getItems(id)).toEqual([]);
      expect(await strategy.selectNotifications(mark + 1, 100)).toEqual([]);
      await strategy.append(new SequencedItem(id, 0, 't', '{}')); // and the store works on
      expect((await strategy.getItems(id)).length).toBe(1);
    } finally {
      await impatient.close();
    }
  });
});
