import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SequencedItem } from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlTracking,
  SqlTrackingRecorder,
  StorageFullError,
} from '../src/index.js';
import { expectRefusedWhenFull } from './disk-full-checks.js';

/**
 * The disk full, on a SQLite file store (WAL, synchronous FULL, as `SqliteConnection.open` makes it):
 * SQLite's own limit, `PRAGMA max_page_count`, makes the file full a few pages past its size, exactly as
 * a full disk does (SQLITE_FULL). Appends (single, batches, a group of sequences' batches), and a
 * projection's tracking transaction, fail typed with nothing half-written; what was acknowledged stays
 * readable; once the limit is raised (space freed) the same store writes again; the file stays sound.
 */
describe('SQLite: the disk full (PRAGMA max_page_count)', () => {
  const directory = mkdtempSync(join(tmpdir(), 'es-disk-full-'));
  const events = SqlIntegerSequencedItem.withTableName('full_events');
  const tracking = SqlTracking.withTableName('full_tracking');
  let database: InstanceType<typeof Database>;
  let datastore: SqlDatastore;
  let store: SqlActiveRecordStrategy<SequencedItem, 'integer'>;

  beforeAll(async () => {
    database = new Database(join(directory, 'full.db'), { timeout: 1000 });
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    datastore = new SqlDatastore({ client: { dialect: 'sqlite', database }, tables: [events, tracking] });
    await datastore.setupTables();
    database.exec('CREATE TABLE full_read_model (name TEXT PRIMARY KEY, payload TEXT NOT NULL)');
    store = new SqlActiveRecordStrategy({ datastore, table: events });
  });
  afterAll(async () => {
    await datastore.close();
    database.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** Room for `pages` more pages than the file has now. */
  const limitTo = (pages: number) => {
    const count = database.pragma('page_count', { simple: true }) as number;
    database.pragma(`max_page_count = ${count + pages}`);
  };
  const payload = (n: number) => JSON.stringify({ n, filler: 'x'.repeat(1500) });
  const batch = (id: string, from: number, count: number) =>
    Array.from({ length: count }, (_, i) => new SequencedItem(id, from + i, 't', payload(from + i)));
  const stored = async (id: string) => (await store.getItems(id)).map((item) => item.position);

  it('appends, single and batches, fail typed once the file is full, each all or nothing; acknowledged ones stay; more room, and it writes again', async () => {
    const single = randomUUID();
    const batched = randomUUID();
    const others = [randomUUID(), randomUUID()];
    limitTo(40);
    const acked = new Map<string, number>([
      [single, 0],
      [batched, 0],
    ]);
    const failures: unknown[] = [];
    // Single appends until the file is full.
    for (let p = 0; failures.length === 0 && p < 10_000; p++) {
      try {
        await store.append(batch(single, p, 1));
        acked.set(single, p + 1);
      } catch (error) {
        failures.push(error);
      }
    }
    expect(failures).toHaveLength(1);
    expect(acked.get(single)).toBeGreaterThan(10); // it did write until the limit
    // Full: a batch of 30 (a transaction of several statements) and several sequences' batches at once
    // (one transaction) fail alike, and leave nothing.
    await expectRefusedWhenFull((items) => store.append(items), batch, { batched, others }, failures);
    expect(await stored(single)).toEqual(Array.from({ length: acked.get(single)! }, (_, p) => p));
    expect(await stored(batched)).toEqual([]);
    for (const id of others) expect(await stored(id)).toEqual([]);

    // Space freed: the same store, the same positions.
    database.pragma('max_page_count = 1073741823');
    await store.append(batch(single, acked.get(single)!, 1));
    await store.append(batch(batched, 0, 30));
    await Promise.all(others.map((id) => store.append(batch(id, 0, 20))));
    expect(await stored(single)).toHaveLength(acked.get(single)! + 1);
    expect(await stored(batched)).toHaveLength(30);
    for (const id of others) expect(await stored(id)).toHaveLength(20);
    expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it("a projection's tracking transaction fails typed when the file fills in it: neither the read model's row nor the tracking record is kept", async () => {
    const recorder = new SqlTrackingRecorder({ datastore, table: tracking });
    const app = `app-${randomUUID()}`;
    await recorder.processWithTracking({ applicationName: app, notificationId: 1 }, async (trx) => {
      await trx.insertInto('full_read_model').values({ name: 'first', payload: 'small' }).execute();
    });
    limitTo(3);
    const big = 'y'.repeat(200_000); // more than three pages
    const failed = recorder.processWithTracking({ applicationName: app, notificationId: 2 }, async (trx) => {
      await trx.insertInto('full_read_model').values({ name: 'second', payload: big }).execute();
    });
    await expect(failed).rejects.toBeInstanceOf(StorageFullError);
    expect(await recorder.maxTrackingId(app)).toBe(1);
    const names = () =>
      (database.prepare('SELECT name FROM full_read_model ORDER BY name').all() as { name: string }[]).map(
        (row) => row.name,
      );
    expect(names()).toEqual(['first']);

    database.pragma('max_page_count = 1073741823');
    await recorder.processWithTracking({ applicationName: app, notificationId: 2 }, async (trx) => {
      await trx.insertInto('full_read_model').values({ name: 'second', payload: big }).execute();
    });
    expect(await recorder.maxTrackingId(app)).toBe(2);
    expect(names()).toEqual(['first', 'second']);
    expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});

describe("a transaction's errors: the database's mapped, the caller's own passed through", () => {
  it.each(['ECONNRESET', 'ETIMEDOUT', 'SQLITE_FULL'])(
    "an error of the caller's own (not the database's) with code %s comes out of processWithTracking and transaction() as it went in",
    async (code) => {
      const datastore = new SqlDatastore({
        settings: new SqlSettings('sqlite::memory:'),
        tables: [SqlTracking.withTableName('callers_tracking')],
      });
      await datastore.setupTables();
      try {
        const recorder = new SqlTrackingRecorder({
          datastore,
          table: SqlTracking.withTableName('callers_tracking'),
        });
        const theirs = Object.assign(new Error('their HTTP call failed'), { code });
        const fail = () => Promise.reject(theirs);
        await expect(
          recorder.processWithTracking({ applicationName: 'up', notificationId: 1 }, fail),
        ).rejects.toBe(theirs);
        await expect(datastore.transaction(fail)).rejects.toBe(theirs);
        expect(await recorder.maxTrackingId('up')).toBe(0); // rolled back
      } finally {
        await datastore.close();
      }
    },
  );
});
