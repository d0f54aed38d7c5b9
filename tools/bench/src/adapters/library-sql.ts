import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlSnapshot,
} from '@es/sql';
import { sql } from 'kysely';
import { type LibraryBackend, LibraryAdapter } from './library.js';

/** The tables the bench uses, dropped and created afresh on every run. */
const EVENTS = SqlIntegerSequencedItem.withTableName('es_bench_events');
const SNAPSHOTS = SqlSnapshot.withTableName('es_bench_snapshots');

/** @es/sql on any of its dialects: the same code for SQLite, PostgreSQL and MariaDB. */
export function librarySql(url: string, versionQuery: string, product: string): LibraryAdapter {
  const settings = new SqlSettings({ url });
  const datastore = new SqlDatastore({ settings, tables: [EVENTS, SNAPSHOTS] });
  const backend: LibraryBackend = {
    strategyDescription: `SqlActiveRecordStrategy (${settings.dialect}; SqlIntegerSequencedItem, SqlSnapshot; pool of ${settings.poolSize})`,
    async open() {
      await datastore.setupConnection();
      await datastore.dropTables();
      await datastore.setupTables();
      return {
        events: new SqlActiveRecordStrategy({ datastore, table: EVENTS }),
        snapshots: new SqlActiveRecordStrategy({ datastore, table: SNAPSHOTS }),
      };
    },
    close: () => datastore.close(),
    async serverVersion() {
      const { rows } = await sql.raw<{ v: string }>(versionQuery).execute(datastore.db);
      return `${product} ${rows[0]!.v}`;
    },
  };
  return new LibraryAdapter(backend);
}
