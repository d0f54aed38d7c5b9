import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { SequencedItem } from '@es/core';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem } from '../src/index.js';
import { type TestDialect, describeEachDialect, uniqueName } from './dialects.js';
import {
  appendUntilFull,
  canMountTmpfs,
  cleanUp,
  expectRefusedWhenFull,
  itemsOf,
  mountTmpfs,
} from './disk-full-checks.js';

const canMount = canMountTmpfs('PostgreSQL');

/**
 * A real full disk on PostgreSQL (docs/reliability.md, A disk full): the store's table, its TOAST table and
 * its indexes moved into a tablespace on a 1 MB tmpfs this test mounts (the WAL stays on the server's own
 * disk, as it does when a data volume fills). The server then fails to extend the table's file with
 * SQLSTATE 53100 (`could not extend file ... No space left on device`). Appends fail typed and leave
 * nothing; what was acknowledged stays readable; once the tmpfs is made larger, the same store writes the
 * same positions. MariaDB is not tried this way: InnoDB aborts the whole server when it runs out of space
 * in a rollback (see the page).
 */
describeEachDialect(
  'a real full disk (a tablespace on a 1 MB tmpfs)',
  (dialect: TestDialect) => {
    const TITLE =
      'appends, single and batches, fail typed (53100) once the volume is full, each all or nothing; acknowledged ones stay; more room, and it writes again';
    if (!canMount) {
      it.skip(TITLE, () => undefined); // requireServer printed why; under CI=true it threw instead
      return;
    }
    const events = SqlIntegerSequencedItem.withTableName(uniqueName('full_events'));
    const tablespace = uniqueName('es_full');
    let volume: ReturnType<typeof mountTmpfs> | undefined;
    let admin: pg.Client;
    let datastore: SqlDatastore;
    let store: SqlActiveRecordStrategy<SequencedItem, 'integer'>;

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: dialect.url });
      await admin.connect();
      // The server's own OS user must own the tablespace's directory: the owner of its data directory.
      const { rows } = await admin.query<{ data_directory: string }>('SHOW data_directory');
      const dataDirectory = rows[0]!.data_directory;
      if (!existsSync(dataDirectory)) {
        throw new Error(
          `PostgreSQL's data directory ${dataDirectory} is not on this machine: this test mounts a file system for the server, so it needs the server here`,
        );
      }
      const { uid, gid } = statSync(dataDirectory);
      volume = mountTmpfs('es-pg-full-', '1m');
      const location = join(volume.path, 'tablespace');
      mkdirSync(location);
      chownSync(location, uid, gid);
      await admin.query(`CREATE TABLESPACE ${tablespace} LOCATION '${location}'`);
      datastore = new SqlDatastore({ settings: dialect.settings(), tables: [events] });
      await datastore.setupConnection();
      await datastore.setupTables();
      await admin.query(`ALTER TABLE ${events.tableName} SET TABLESPACE ${tablespace}`);
      const indexes = await admin.query<{ indexname: string }>(
        'SELECT indexname FROM pg_indexes WHERE tablename = $1',
        [events.tableName],
      );
      expect(indexes.rows.length).toBeGreaterThan(0);
      for (const { indexname } of indexes.rows)
        await admin.query(`ALTER INDEX ${indexname} SET TABLESPACE ${tablespace}`);
      store = new SqlActiveRecordStrategy({ datastore, table: events });
    });

    // Each step on its own: one that fails must not leave the tablespace or the mount behind.
    afterAll(async () => {
      const steps: [string, () => unknown][] = [
        ['drop the table', () => admin?.query(`DROP TABLE IF EXISTS ${events.tableName}`)],
        ['close the datastore', () => datastore?.close()],
        ['drop the tablespace', () => admin?.query(`DROP TABLESPACE IF EXISTS ${tablespace}`)],
        ['close the admin connection', () => admin?.end()],
        ['unmount', () => volume?.unmount()],
      ];
      await cleanUp(steps);
    });

    const stored = async (id: string) => (await store.getItems(id)).map((item) => item.position);

    it(
      TITLE,
      async () => {
        const single = randomUUID();
        const batched = randomUUID();
        const others = [randomUUID(), randomUUID()];
        const { acked, failure } = await appendUntilFull((items) => store.append(items), single);
        const failures: unknown[] = [failure];
        expect(acked).toBeGreaterThan(10); // it did write until the volume was full
        await expectRefusedWhenFull((items) => store.append(items), itemsOf, { batched, others }, failures);
        for (const failure of failures)
          expect(String((failure as Error).cause)).toMatch(/No space left on device/);
        expect(await stored(single)).toEqual(Array.from({ length: acked }, (_, p) => p));
        expect(await stored(batched)).toEqual([]);
        for (const id of others) expect(await stored(id)).toEqual([]);

        // Space added to the volume: the same store, the same positions.
        volume!.grow('16m');
        await store.append(itemsOf(single, acked, 1));
        await store.append(itemsOf(batched, 0, 30));
        await Promise.all(others.map((id) => store.append(itemsOf(id, 0, 20))));
        expect(await stored(single)).toHaveLength(acked + 1);
        expect(await stored(batched)).toHaveLength(30);
        for (const id of others) expect(await stored(id)).toHaveLength(20);
      },
      120_000,
    );
  },
  { only: ['postgres'] },
);
