import type { SequencedItem } from '@es/core';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { SqlConnection } from './dialects.js';
import { cannotConnect, classify, mapDriverError, positionTaken } from './errors.js';
import type { SqlSettings } from './settings.js';
import type { SqlItemsTable } from './tables.js';

/** The part of better-sqlite3 used here (its types stay out of the public API). */
interface Database {
  prepare(source: string): { run(...params: unknown[]): unknown };
  transaction<A extends unknown[]>(fn: (...args: A) => void): { immediate(...args: A): void };
  pragma(source: string): unknown;
  close(): void;
}

/**
 * SQLite through better-sqlite3: one connection, in process. SQLite lets one writer in at a time, so
 * ids are taken in commit order without any lock of ours. Appends run prepared statements directly in
 * a `BEGIN IMMEDIATE` transaction, inside Kysely's connection lock so that they never land inside a
 * tracking transaction another caller holds open. Files use WAL (readers never block the writer).
 */
export class SqliteConnection implements SqlConnection {
  private readonly inserts = new Map<string, (items: readonly SequencedItem[]) => void>();

  private constructor(
    readonly settings: SqlSettings,
    readonly db: Kysely<any>,
    private readonly database: Database,
  ) {}

  static open(settings: SqlSettings, Driver: new (filename: string, options: object) => Database): SqliteConnection {
    let database: Database | undefined;
    try {
      database = new Driver(settings.filename!, { timeout: settings.lockTimeoutMs });
      if (!settings.inMemory) database.pragma('journal_mode = WAL');
      // Committed means on disk (better-sqlite3 defaults WAL to NORMAL, which may lose the last commits on power loss).
      database.pragma('synchronous = FULL');
    } catch (error) {
      database?.close();
      throw cannotConnect(settings, error);
    }
    return new SqliteConnection(settings, new Kysely({ dialect: new SqliteDialect({ database: database as any }) }), database);
  }

  async insertItems(table: SqlItemsTable, items: readonly SequencedItem[]): Promise<void> {
    await this.db.connection().execute(async () => {
      try {
        this.insertTransaction(table)(items);
      } catch (error) {
        if (classify(error) === 'unique') throw positionTaken(items, error);
        throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.name}` });
      }
    });
  }

  /** One prepared single-row insert, run per item in one transaction: in process, rows cost no round trips. */
  private insertTransaction(table: SqlItemsTable): (items: readonly SequencedItem[]) => void {
    let insert = this.inserts.get(table.name);
    if (insert === undefined) {
      const row = { sequence_id: '', position: 0, topic: '', data: '' };
      const statement = this.database.prepare(this.db.insertInto(table.name).values(row).compile().sql);
      const transaction = this.database.transaction((batch: readonly SequencedItem[]) => {
        for (const item of batch) statement.run(item.sequenceId, item.position, item.topic, item.data);
      });
      insert = (batch) => transaction.immediate(batch);
      this.inserts.set(table.name, insert);
    }
    return insert;
  }

  text(value: unknown): string {
    return value as string;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    this.inserts.clear();
    await this.db.destroy();
  }
}
