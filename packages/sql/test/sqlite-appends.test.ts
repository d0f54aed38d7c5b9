import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { ConcurrencyError, SequencedItem } from '@es/core';
import {
  LockTimeoutError,
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlTimestampSequencedItem,
} from '../src/index.js';
import type { SqliteConnection } from '../src/sqlite.js';
import { type FaultyClient, faults, faultyClient } from './faults.js';

/**
 * White-box tests of SQLite's appends (in process: no server). An append is one autocommitted insert
 * with its contiguity check; a longer batch is several statements in one transaction; `insertBatches`
 * commits several sequences' batches at once, each with its own outcome.
 */
describe('SQLite appends', () => {
  const directory = mkdtempSync(join(tmpdir(), 'es-sqlite-appends-'));
  const table = SqlIntegerSequencedItem.withTableName('appended');
  const timestamps = SqlTimestampSequencedItem.withTableName('stamped');
  /** Appended to only by the group commit test: its committer is made after the test's spy. */
  const grouped = SqlIntegerSequencedItem.withTableName('grouped');
  /** Appended to only by the gather test, likewise. */
  const gathered = SqlIntegerSequencedItem.withTableName('gathered');
  let database: InstanceType<typeof Database>;
  let faulty: FaultyClient;
  let datastore: SqlDatastore;
  let store: SqlActiveRecordStrategy<SequencedItem, 'integer'>;
  let connection: SqliteConnection;

  beforeAll(async () => {
    database = new Database(join(directory, 'appends.db'), { timeout: 1000 });
    database.pragma('journal_mode = WAL');
    faulty = faultyClient({ dialect: 'sqlite', database });
    datastore = new SqlDatastore({ client: faulty.client, tables: [table, timestamps, grouped, gathered] });
    await datastore.setupTables();
    store = new SqlActiveRecordStrategy({ datastore, table });
    connection = (await datastore.connection()) as SqliteConnection;
  });
  afterAll(async () => {
    await datastore.close();
    database.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const items = (id: string, from: number, count: number, topic = 't') =>
    Array.from({ length: count }, (_, i) => new SequencedItem(id, from + i, topic, `{"p":${from + i}}`));
  const positions = async (id: string) => (await store.getItems(id)).map((item) => item.position);
  /** The statements sent while `run` runs. */
  async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
    const mark = faulty.statements.length;
    await run();
    return faulty.statements.slice(mark);
  }

  it('an append is one insert statement that checks contiguity itself, outside any transaction', async () => {
    const id = randomUUID();
    for (const [from, count] of [
      [0, 1],
      [1, 3],
      [4, 100],
    ] as const) {
      const sent = await statementsOf(() => store.append(items(id, from, count)));
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^insert into "appended" .* where \(select coalesce\(max\(position\), -1\)/);
      expect(database.inTransaction).toBe(false);
    }
    expect(await positions(id)).toEqual(Array.from({ length: 104 }, (_, p) => p));
  });

  it('a batch that does not continue its sequence inserts nothing: a gap, a taken position, a long batch', async () => {
    const id = randomUUID();
    await store.append(items(id, 0, 2));
    for (const [from, count] of [
      [3, 1],
      [1, 1],
      [0, 2],
      [5, 250],
      [1, 250],
    ] as const) {
      const error = await store.append(items(id, from, count)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ sequenceId: id, position: from });
    }
    expect(await positions(id)).toEqual([0, 1]);
  });

  it('a batch longer than one statement is all or none, and its ids follow its positions', async () => {
    const id = randomUUID();
    const mark = await store.maxNotificationId();
    // The third of its three statements fails: the first two are undone with it.
    faulty.inject(/^insert into "appended"/, (send) => send());
    faulty.inject(/^insert into "appended"/, (send) => send());
    faulty.inject(/^insert into "appended"/, faults('sqlite').busy);
    await expect(store.append(items(id, 0, 250))).rejects.toBeInstanceOf(LockTimeoutError);
    expect(await positions(id)).toEqual([]);
    await store.append(items(id, 0, 250));
    const log = await store.selectNotifications(mark + 1, 1000);
    expect(log.map((n) => n.position)).toEqual(Array.from({ length: 250 }, (_, p) => p));
    expect(log.map((n) => n.id)).toEqual(Array.from({ length: 250 }, (_, i) => log[0]!.id + i));
  });

  it('insertBatches: each batch its own outcome, the stored ones in one commit and in batch order', async () => {
    const [a, x, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await store.append(items(x, 0, 1));
    const mark = await store.maxNotificationId();
    const outcomes = await connection.insertBatches(table, [
      items(a, 0, 2),
      items(x, 5, 1), // a gap
      items(x, 0, 1), // taken
      items(b, 0, 150), // two statements
      items(c, 1, 150), // a gap, found by the first of two statements
      items(d, 0, 1),
    ]);
    expect(outcomes.map((o) => o === undefined)).toEqual([true, false, false, true, false, true]);
    expect(outcomes[1]).toMatchObject({ sequenceId: x, position: 5 });
    expect(outcomes[2]).toMatchObject({ sequenceId: x, position: 0 });
    expect(outcomes[4]).toMatchObject({ sequenceId: c, position: 1 });
    for (const outcome of [outcomes[1], outcomes[2], outcomes[4]])
      expect(outcome).toBeInstanceOf(ConcurrencyError);
    expect(await positions(x)).toEqual([0]);
    expect(await positions(c)).toEqual([]);
    const log = await store.selectNotifications(mark + 1, 1000);
    expect(log.map((n) => `${n.sequenceId}:${n.position}`)).toEqual(
      [...items(a, 0, 2), ...items(b, 0, 150), ...items(d, 0, 1)].map((i) => `${i.sequenceId}:${i.position}`),
    );
    expect(log.map((n) => n.id)).toEqual(log.map((_, i) => log[0]!.id + i));
  });

  it('insertBatches: a taken position on a table without contiguity fails only its own batch', async () => {
    const stamped = new SqlActiveRecordStrategy({ datastore, table: timestamps });
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const at = (id: string, positions: readonly number[]) =>
      positions.map((p) => new SequencedItem(id, p, 't', '{}'));
    const long = Array.from({ length: 150 }, (_, i) => i + 0.5);
    await stamped.append(at(a, [1.5]));
    await stamped.append(at(c, [120.5])); // taken: met by the second of the long batch's two statements
    const outcomes = await connection.insertBatches(timestamps, [
      at(a, [1.5, 2.5]),
      at(b, [0.5]),
      at(c, long),
    ]);
    expect(outcomes[0]).toBeInstanceOf(ConcurrencyError);
    expect(outcomes[1]).toBeUndefined();
    expect(outcomes[2]).toMatchObject({ sequenceId: c, position: 0.5 });
    expect((await stamped.getItems(a)).map((i) => i.position)).toEqual([1.5]);
    expect((await stamped.getItems(b)).map((i) => i.position)).toEqual([0.5]);
    expect((await stamped.getItems(c)).map((i) => i.position)).toEqual([120.5]);
  });

  it('insertBatches is one transaction: any other error stores none of the batches', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    faulty.inject(/^insert into "appended"/, (send) => send());
    faulty.inject(/^insert into "appended"/, (send) => send());
    faulty.inject(/^insert into "appended"/, faults('sqlite').busy);
    await expect(
      connection.insertBatches(table, [items(a, 0, 1), items(b, 0, 3), items(c, 0, 1)]),
    ).rejects.toBeInstanceOf(LockTimeoutError);
    for (const id of [a, b, c]) expect(await positions(id)).toEqual([]);
    expect(database.inTransaction).toBe(false);
  });

  it('concurrent appends share commits (group commit), each with its own outcome, ids in commit order', async () => {
    const calls: number[] = [];
    const insertBatches = connection.insertBatches.bind(connection);
    const spy = jest.spyOn(connection, 'insertBatches').mockImplementation(async (on, batches) => {
      calls.push(batches.length);
      return insertBatches(on, batches);
    });
    try {
      const appender = new SqlActiveRecordStrategy({ datastore, table: grouped });
      const ids = Array.from({ length: 8 }, () => randomUUID());
      const results = await Promise.all(
        ids.map((id, i) =>
          appender.append(items(id, i === 3 ? 1 : 0, 2)).then(
            () => 'stored',
            (error: unknown) => error,
          ),
        ),
      );
      expect(results.map((r) => (r === 'stored' ? r : r instanceof ConcurrencyError))).toEqual(
        ids.map((_, i) => (i === 3 ? true : 'stored')),
      );
      // The first goes alone; those made while it was in flight share commits (today all seven one).
      expect(Math.max(0, ...calls)).toBeGreaterThan(1);
      const log = await appender.selectNotifications(1, 100);
      expect(log.map((n) => `${n.sequenceId}:${n.position}`)).toEqual(
        ids.filter((_, i) => i !== 3).flatMap((id) => [`${id}:0`, `${id}:1`]),
      );
      expect(log.map((n) => n.id)).toEqual(log.map((_, i) => i + 1));
    } finally {
      spy.mockRestore();
    }
  });

  it('writers woken by a commit share the next one: better-sqlite3 writes a lone append before it returns', async () => {
    const commits: string[] = [];
    const insertBatches = connection.insertBatches.bind(connection);
    const insertItems = connection.insertItems.bind(connection);
    const spies = [
      jest.spyOn(connection, 'insertBatches').mockImplementation(async (on, batches) => {
        if (on === gathered) commits.push(`${batches.length} batches`);
        return insertBatches(on, batches);
      }),
      jest.spyOn(connection, 'insertItems').mockImplementation(async (on, batch) => {
        if (on === gathered) commits.push('alone');
        return insertItems(on, batch);
      }),
    ];
    try {
      const appender = new SqlActiveRecordStrategy({ datastore, table: gathered });
      const ids = Array.from({ length: 8 }, () => randomUUID());
      // 8 writers, each appending again as soon as its last append is stored.
      await Promise.all(
        ids.map(async (id) => {
          for (let position = 0; position < 3; position++) await appender.append(items(id, position, 1));
        }),
      );
      // The first round: the first two go at once, alone (two groups may be in flight), the other six
      // queue behind them. Since then the committer knows the writers contend: each round is one commit.
      expect(commits).toEqual(['alone', 'alone', '6 batches', '8 batches', '8 batches']);
      for (const id of ids) expect(await appender.getItems(id)).toHaveLength(3);
      const log = await appender.selectNotifications(1, 100);
      expect(log.map((n) => n.position)).toEqual([
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2,
      ]);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('appends wait for a transaction open on the connection, and are not undone with it', async () => {
    const [a, b, c, own] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let inside!: () => void;
    const opened = new Promise<void>((resolve) => (inside = resolve));
    const transaction = datastore
      .transaction(async (trx) => {
        await trx
          .insertInto(table.tableName)
          .values({ sequence_id: own, position: 0, topic: 't', data: '{}' })
          .execute();
        inside();
        await released;
        throw new Error('rolled back on purpose');
      })
      .catch(() => undefined);
    await opened;
    let settled = 0;
    const appends = [
      store.append(items(a, 0, 1)).then(() => (settled += 1)),
      connection.insertBatches(table, [items(b, 0, 2), items(c, 0, 1)]).then(() => (settled += 1)),
    ];
    await sleep(100);
    expect(settled).toBe(0);
    release();
    await transaction;
    await Promise.all(appends);
    expect(await positions(own)).toEqual([]);
    expect(await positions(a)).toEqual([0]);
    expect(await positions(b)).toEqual([0, 1]);
    expect(await positions(c)).toEqual([0]);
  });
});
