import { type SequencedItem, ValidationError } from '@es/core';
import { CompiledQuery, Kysely, MysqlDialect, type Transaction, sql } from 'kysely';
import { KyselyConnection, type Row } from './connection.js';
import { cannotConnect, classify, lost, mapDriverError, notContinuing, positionTaken } from './errors.js';
import { boundMysqlPool } from './request-timeout.js';
import { driverTlsOptions } from './tls.js';
import type { SqlSettings } from './settings.js';
import type { SqlItemsTable } from './tables.js';

/**
 * The part of mysql2's callback API used here and by Kysely: a pool from `mysql2`'s `createPool` is one
 * (its types stay out of the public API). The user's own pool may be passed to SqlDatastore as it is.
 */
export interface MysqlPool {
  getConnection(callback: (error: Error | null, connection: MysqlPoolConnection) => void): void;
  end(callback: (error: unknown) => void): void;
}
export interface MysqlPoolConnection {
  // Values are `any[]`: mysql2 types them as its own ExecuteValues, and a real pool must fit this type.
  /** A statement prepared once per connection (the store's appends; its reads, with rows as arrays). */
  execute(
    sql: string | { sql: string; rowsAsArray: true },
    values: any[],
    callback: (error: Error | null, rows: any) => void,
  ): void;
  /** Kysely's queries. */
  query(sql: string, values: any[], callback: (error: Error | null, rows: any) => void): void;
  release(): void;
  destroy(): void;
}
/** The pool the datastore makes for itself, and what it does to it. */
interface OwnPool extends MysqlPool {
  on(event: 'connection', listener: (connection: OwnConnection) => void): void;
}
interface OwnConnection {
  query(sql: string, callback: (error: Error | null) => void): void;
}

/**
 * MySQL and MariaDB through mysql2. An append is ONE autocommit statement, `INSERT ... SELECT` from
 * the batch (one JSON parameter, unpacked by JSON_TABLE) joined to the row of a one-row lock table
 * read `FOR UPDATE`: the row lock is taken before any auto-increment id is drawn and held until the
 * statement commits, so ids are drawn in commit order; a duplicate key rolls the statement back. The
 * statement is prepared once per connection (the same text for every batch size).
 */
export class MysqlConnection extends KyselyConnection {
  private readonly inserts = new Map<string, string>();

  private constructor(
    settings: SqlSettings,
    db: Kysely<any>,
    private readonly pool: MysqlPool,
    /** The server's max_allowed_packet: a larger batch would cost the connection, so it is refused first. */
    private readonly maxPacketBytes: number,
    owned: boolean,
  ) {
    super(settings, db, owned);
  }

  /**
   * Over a pool of the user's: used as it is (its sessions keep their own sql_mode and lock wait
   * timeout), never ended.
   */
  static over(settings: SqlSettings, pool: MysqlPool): Promise<MysqlConnection> {
    return MysqlConnection.connect(settings, boundMysqlPool(pool, settings.requestTimeoutMs), false);
  }

  static open(
    settings: SqlSettings,
    mysql: { createPool(config: object): OwnPool },
  ): Promise<MysqlConnection> {
    const pool = mysql.createPool({
      host: settings.host,
      port: settings.port,
      user: settings.user,
      password: settings.password,
      database: settings.database,
      connectionLimit: settings.poolSize,
      maxIdle: settings.poolSize,
      idleTimeout: settings.idleTimeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      charset: 'utf8mb4',
      ...(settings.tls.mode === 'disable' ? {} : { ssl: driverTlsOptions(settings.tls) }),
    });
    // Strict mode: a value that does not fit is an error, never silently cut. Without
    // NO_BACKSLASH_ESCAPES, because mysql2 escapes the parameters of Kysely's queries with backslashes.
    const lockWaitSeconds = Math.max(1, Math.ceil(settings.lockTimeoutMs / 1000));
    pool.on('connection', (connection) =>
      connection.query(
        `SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', innodb_lock_wait_timeout = ${lockWaitSeconds}`,
        () => {},
      ),
    );
    return MysqlConnection.connect(settings, boundMysqlPool(pool, settings.requestTimeoutMs), true);
  }

  private static async connect(
    settings: SqlSettings,
    pool: MysqlPool,
    owned: boolean,
  ): Promise<MysqlConnection> {
    // Kysely's MysqlPool type names more of mysql2 than the store needs.
    const db = new Kysely<any>({ dialect: new MysqlDialect({ pool: pool as any }) });
    let maxPacketBytes: number;
    try {
      const { rows } = await sql<{ max: number }>`select @@max_allowed_packet as max`.execute(db);
      maxPacketBytes = Number(rows[0]!.max);
    } catch (error) {
      if (owned) await db.destroy().catch(() => {});
      throw mapDriverError(settings, error, { write: false, what: 'connecting' });
    }
    return new MysqlConnection(settings, db, pool, maxPacketBytes, owned);
  }

  async insertItems(table: SqlItemsTable, items: readonly SequencedItem[]): Promise<void> {
    const text = this.insertStatement(table);
    let result: { affectedRows?: number } | undefined;
    try {
      result = await this.execute(text, this.insertParams(text, table, items));
    } catch (error) {
      if (classify(error) === 'unique') throw positionTaken(items, error);
      throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.tableName}` });
    }
    // The contiguity check is part of the statement: when it fails, the statement inserts no row.
    if (table.kind === 'integer' && result?.affectedRows === 0) throw notContinuing(items);
  }

  /** The same statement in the transaction: its lock row is then held until the transaction ends. */
  async insertItemsIn(
    trx: Transaction<any>,
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): Promise<void> {
    const text = this.insertStatement(table);
    let inserted: bigint | undefined;
    try {
      inserted = (await trx.executeQuery(CompiledQuery.raw(text, this.insertParams(text, table, items))))
        .numAffectedRows;
    } catch (error) {
      if (classify(error) === 'unique') throw positionTaken(items, error);
      throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.tableName}` });
    }
    if (table.kind === 'integer' && inserted === 0n) throw notContinuing(items);
  }

  /** The sequence id and the batch as one JSON parameter; a batch too large for one packet is refused. */
  private insertParams(text: string, table: SqlItemsTable, items: readonly SequencedItem[]): unknown[] {
    const batch = JSON.stringify(items.map((i) => [i.position, i.topic, i.data]));
    const bytes = Buffer.byteLength(batch) + Buffer.byteLength(items[0]!.sequenceId) + text.length + 1024;
    if (bytes > this.maxPacketBytes) {
      throw new ValidationError(
        `a batch of ${bytes} bytes is larger than the server's max_allowed_packet (${this.maxPacketBytes} bytes): append fewer or smaller items`,
        'items',
      );
    }
    const sequenceId = items[0]!.sequenceId;
    // Integer sequences also pass what the contiguity check compares the head with.
    return table.kind === 'integer'
      ? [sequenceId, batch, sequenceId, items[0]!.position - 1]
      : [sequenceId, batch];
  }

  async select(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return this.execute({ sql, rowsAsArray: true }, params);
  }

  /** Runs a statement prepared once per connection (mysql2 keeps them), discarding a lost connection. */
  private async execute(
    sql: string | { sql: string; rowsAsArray: true },
    params: readonly unknown[],
  ): Promise<any> {
    const connection = await new Promise<MysqlPoolConnection>((resolve, reject) =>
      this.pool.getConnection((error, c) =>
        error ? reject(cannotConnect(this.settings, error)) : resolve(c),
      ),
    );
    let broken = false;
    try {
      return await new Promise((resolve, reject) =>
        connection.execute(sql, [...params], (error, rows) => (error ? reject(error) : resolve(rows))),
      );
    } catch (error) {
      broken = lost(error);
      throw error;
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  private insertStatement(table: SqlItemsTable): string {
    let text = this.inserts.get(table.tableName);
    if (text === undefined) {
      const position = table.positionKind === 'integer' ? 'bigint' : 'double';
      const rows =
        `json_table(?, '$[*]' columns (n for ordinality, position ${position} path '$[0]', ` +
        `topic varchar(255) character set utf8mb4 path '$[1]', data longtext character set utf8mb4 path '$[2]')) as i`;
      const insert = `insert into \`${table.tableName}\` (sequence_id, position, topic, data) select ?, i.position, i.topic, i.data`;
      // Integer sequences are contiguous: the batch inserts only when its first position is one past
      // the sequence's last. The subquery names the lock row (l.id) so that it runs after that row is
      // locked: uncorrelated, MySQL would run it first, and its shared locks on the items table would
      // deadlock racing writers.
      const continues =
        table.kind === 'integer'
          ? ` and (select coalesce(max(s.position), -1) from \`${table.tableName}\` as s where s.sequence_id = ? and l.id = 1) = ?`
          : '';
      text = table.notificationLog
        ? `${insert} from \`${table.lockTableName}\` as l join ${rows} where l.id = 1${continues} order by i.n for update`
        : `${insert} from ${rows} order by i.n`;
      this.inserts.set(table.tableName, text);
    }
    return text;
  }
}
