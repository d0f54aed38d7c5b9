import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type SQLiteEventStore,
  getSQLiteEventStore,
  readMessagesBatch,
  sqliteConnection,
} from '@event-driven-io/emmett-sqlite';
import { EmmettAdapter } from './emmett.js';

/**
 * Emmett's SQLite store with its default set-up for a file: the `sqlite3` driver, WAL, a connection
 * opened per operation. The log is read with `readMessagesBatch`, what its consumers poll.
 */
export function emmettSqlite(dir: string): EmmettAdapter {
  const fileName = join(dir, 'emmett.sqlite');
  let store: SQLiteEventStore | undefined;
  return new EmmettAdapter({
    storeDescription: `getSQLiteEventStore({ fileName }) on the sqlite3 driver (readMessagesBatch for the log)`,
    async open() {
      for (const suffix of ['', '-wal', '-shm']) rmSync(fileName + suffix, { force: true });
      store = getSQLiteEventStore({ fileName });
      return store;
    },
    async close() {},
    explain(error) {
      return String((error as Error).message).includes('cannot rollback')
        ? 'SQLITE_BUSY under concurrent writers: Emmett opens a connection per operation, its BEGIN IMMEDIATE fails busy and the ROLLBACK that follows fails too'
        : undefined;
    },
    async serverVersion() {
      const connection = sqliteConnection({ fileName });
      try {
        const row = await connection.querySingle<{ v: string }>('SELECT sqlite_version() AS v');
        return `SQLite ${row?.v} (sqlite3 driver)`;
      } finally {
        connection.close();
      }
    },
    async readLog(count, pageSize) {
      const connection = sqliteConnection({ fileName });
      try {
        let read = 0;
        let after = 0n;
        while (read < count) {
          const batch = await readMessagesBatch(connection, { after, batchSize: pageSize });
          read += Math.min(batch.messages.length, count - read);
          if (!batch.areEventsLeft || batch.messages.length === 0) break;
          after = batch.currentGlobalPosition;
        }
        return read;
      } finally {
        connection.close();
      }
    },
  });
}
