import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SequencedItem } from '@es/core';
import { requireServer } from '@es/testing/conformance';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem } from '../src/index.js';
import { type TestDialect, describeEachDialect, uniqueName } from './dialects.js';
import { expectRefusedWhenFull } from './disk-full-checks.js';

/** Mounting a tmpfs needs root; under CI=true (root here) a machine that cannot fails this file. */
const canMount = requireServer(
  'a tmpfs mounted by the test (a real full disk for PostgreSQL)',
  () => {
    if (process.getuid?.() !== 0) throw new Error('mounting a tmpfs needs root');
    const probe = mkdtempSync(join(tmpdir(), 'es-mount-probe-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe' });
      execFileSync('umount', [probe], { stdio: 'pipe' });
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
    return true;
  },
  'run the tests as root on the machine that runs PostgreSQL',
);

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
    let mountPoint = '';
    let mounted = false;
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
      mountPoint = mkdtempSync(join(tmpdir(), 'es-pg-full-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'pipe' });
      mounted = true;
      const location = join(mountPoint, 'tablespace');
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
        [
          'unmount',
          () => {
            if (!mounted) return;
            try {
              execFileSync('umount', [mountPoint], { stdio: 'pipe' });
            } catch {
              execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' }); // busy: detach it now
            }
          },
        ],
        ['remove the mount point', () => mountPoint && rmSync(mountPoint, { recursive: true, force: true })],
      ];
      const failed: string[] = [];
      for (const [step, run] of steps) {
        try {
          await run();
        } catch (error) {
          failed.push(`${step}: ${String(error)}`);
        }
      }
      if (failed.length > 0) throw new Error(`cleaning up failed: ${failed.join('; ')}`);
    });

    // Text that does not compress, so each item takes its room in the table's pages.
    const payload = (n: number) =>
      JSON.stringify({ n, filler: Array.from({ length: 48 }, () => randomUUID()).join('') });
    const batch = (id: string, from: number, count: number) =>
      Array.from({ length: count }, (_, i) => new SequencedItem(id, from + i, 't', payload(from + i)));
    const stored = async (id: string) => (await store.getItems(id)).map((item) => item.position);

    it(
      TITLE,
      async () => {
        const single = randomUUID();
        const batched = randomUUID();
        const others = [randomUUID(), randomUUID()];
        let acked = 0;
        const failures: unknown[] = [];
        for (let p = 0; failures.length === 0 && p < 5_000; p++) {
          try {
            await store.append(batch(single, p, 1));
            acked = p + 1;
          } catch (error) {
            failures.push(error);
          }
        }
        expect(failures).toHaveLength(1);
        expect(acked).toBeGreaterThan(10); // it did write until the volume was full
        await expectRefusedWhenFull((items) => store.append(items), batch, { batched, others }, failures);
        for (const failure of failures)
          expect(String((failure as Error).cause)).toMatch(/No space left on device/);
        expect(await stored(single)).toEqual(Array.from({ length: acked }, (_, p) => p));
        expect(await stored(batched)).toEqual([]);
        for (const id of others) expect(await stored(id)).toEqual([]);

        // Space added to the volume: the same store, the same positions.
        execFileSync('mount', ['-o', 'remount,size=16m', mountPoint], { stdio: 'pipe' });
        await store.append(batch(single, acked, 1));
        await store.append(batch(batched, 0, 30));
        await Promise.all(others.map((id) => store.append(batch(id, 0, 20))));
        expect(await stored(single)).toHaveLength(acked + 1);
        expect(await stored(batched)).toHaveLength(30);
        for (const id of others) expect(await stored(id)).toHaveLength(20);
      },
      120_000,
    );
  },
  { only: ['postgres'] },
);
