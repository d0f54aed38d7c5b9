import { type ConcurrencyError, type SequencedItem, ValidationError } from '@es/core';
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
  /** Kysely's queries, and the store's transaction control (as text). */
  query(
    sql: string | { sql: string; rowsAsArray: true },
    values: any[],
    callback: (error: Error | null, rows: any) => void,
  ): void;
  release(): void;
  destroy(): void;
}
/** The pool the datastore makes for itself, and what it does to it. */
interface OwnPool extends MysqlPool {
  on(event: 'connection', listener: (connection: OwnConnection) => void): void;
}
/** One statement on a pool connection: its rows, or mysql2's result header. */
type Run = (
  method: 'execute' | 'query',
  sql: string | { sql: string; rowsAsArray: true },
  params: readonly unknown[],
) => Promise<any>;
interface OwnConnection {
  query(sql: string, callback: (error: Error | null) => void): void;
}

/**
 * MySQL and MariaDB through mysql2. An append is ONE autocommit statement, `INSERT ... SELECT` from
 * the item (its parameters) or the batch (one JSON parameter, unpacked by JSON_TABLE) and the row of a
 * one-row lock table read `FOR UPDATE`: the row lock is taken before any auto-increment id is drawn and
 * held until the statement commits, so ids are drawn in commit order; a duplicate key rolls the
 * statement back. The two statements are prepared once per connection.
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
    const refused = await this.append(
      table,
      items,
      async (text, params) => ((await this.execute(text, params)) as { affectedRows?: number }).affectedRows,
    );
    if (refused) throw refused;
  }

  /** The same statement in the transaction: its lock row is then held until the transaction ends. */
  async insertItemsIn(
    trx: Transaction<any>,
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): Promise<void> {
    const refused = await this.append(table, items, async (text, params) =>
      Number((await trx.executeQuery(CompiledQuery.raw(text, params))).numAffectedRows),
    );
    if (refused) throw refused;
  }

  /**
   * Several sequences' batches as one transaction: one lock-row acquisition (the first statement takes
   * the row, the others find it held) and one commit. Each batch is insertItems' statement, so it keeps
   * its own contiguity check and its own outcome: InnoDB rolls back only the statement that hit a
   * duplicate key, and the transaction goes on with the next batch.
   */
  async insertBatches(
    table: SqlItemsTable,
    batches: readonly (readonly SequencedItem[])[],
  ): Promise<(ConcurrencyError | undefined)[]> {
    const what = `an append of ${batches.length} batches to ${table.tableName}`;
    return this.onConnection(async (run) => {
      try {
        await run('query', 'start transaction', []);
      } catch (error) {
        throw mapDriverError(this.settings, error, { write: false, what: `starting ${what}` });
      }
      try {
        const outcomes: (ConcurrencyError | undefined)[] = [];
        for (const batch of batches) {
          outcomes.push(
            await this.append(
              table,
              batch,
              async (text, params) =>
                ((await run('execute', text, params)) as { affectedRows?: number }).affectedRows,
            ),
          );
        }
        try {
          await run('query', 'commit', []);
        } catch (error) {
          throw mapDriverError(this.settings, error, { write: true, what: `the commit of ${what}` });
        }
        return outcomes;
      } catch (error) {
        // Also after a failed commit (a lost connection is then discarded, not reused).
        await run('query', 'rollback', []).catch(() => {});
        throw error;
      }
    });
  }

  /**
   * Runs the append statement of one batch: undefined when its rows are stored, its ConcurrencyError
   * when it does not continue its sequence or a position is taken (nothing stored); throws anything
   * else as the store's typed error. `execute` gives the number of rows the statement inserted.
   */
  private async append(
    table: SqlItemsTable,
    items: readonly SequencedItem[],
    execute: (text: string, params: unknown[]) => Promise<number | undefined>,
  ): Promise<ConcurrencyError | undefined> {
    const { text, params } = this.insertion(table, items);
    let inserted: number | undefined;
    try {
      inserted = await execute(text, params);
    } catch (error) {
      if (classify(error) === 'unique') return positionTaken(items, error);
      throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.tableName}` });
    }
    // The contiguity check is part of the statement: when it fails, the statement inserts no row.
    return table.kind === 'integer' && inserted === 0 ? notContinuing(items) : undefined;
  }

  async select(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return this.execute({ sql, rowsAsArray: true }, params);
  }

  /** Runs a statement prepared once per connection (mysql2 keeps them); reads take rows as arrays. */
  private async execute(
    sql: string | { sql: string; rowsAsArray: true },
    params: readonly unknown[],
  ): Promise<any> {
    return this.onConnection((run) => run('execute', sql, params));
  }

  /**
   * Runs `work` on a connection of the pool, `run` sending its statements (`execute`: prepared once per
   * connection; `query`: as text). A connection that lost a statement is discarded, not reused.
   */
  private async onConnection<T>(work: (run: Run) => Promise<T>): Promise<T> {
    const connection = await new Promise<MysqlPoolConnection>((resolve, reject) =>
      this.pool.getConnection((error, c) =>
        error ? reject(cannotConnect(this.settings, error)) : resolve(c),
      ),
    );
    let broken = false;
    const run: Run = (method, sql, params) =>
      new Promise((resolve, reject) =>
        connection[method](sql, [...params], (error, rows) => {
          if (error === null) return resolve(rows);
          broken ||= lost(error);
          reject(error);
        }),
      );
    try {
      return await work(run);
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  /**
   * The statement for the batch and its parameters: the sequence id, the row (one item) or the rows as
   * one JSON parameter, and what the contiguity check compares the head with. A batch too large for one
   * packet is refused before it costs the connection.
   */
  private insertion(
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): { text: string; params: unknown[] } {
    const one = items.length === 1;
    const text = this.insertStatement(table, one);
    const sequenceId = items[0]!.sequenceId;
    let params: unknown[];
    let bytes = text.length + Buffer.byteLength(sequenceId) + 1024;
    if (one) {
      const { position, topic, data } = items[0]!;
      params = [sequenceId, position, topic, data];
      bytes += Buffer.byteLength(topic) + Buffer.byteLength(data) + 24;
    } else {
      const batch = JSON.stringify(items.map((i) => [i.position, i.topic, i.data]));
      params = [sequenceId, batch];
      bytes += Buffer.byteLength(batch);
    }
    if (bytes > this.maxPacketBytes) {
      throw new ValidationError(
        `a batch of ${bytes} bytes is larger than the server's max_allowed_packet (${this.maxPacketBytes} bytes): append fewer or smaller items`,
        'items',
      );
    }
    if (table.kind === 'integer') params.push(sequenceId, items[0]!.position - 1);
    return { text, params };
  }

  /** The statement for one item or for a batch, made once per table. */
  private insertStatement(table: SqlItemsTable, one: boolean): string {
    const key = `${one ? 1 : 'n'} ${table.tableName}`;
    let text = this.inserts.get(key);
    if (text === undefined) {
      text = insertStatement(table, one);
      this.inserts.set(key, text);
    }
    return text;
  }
}

/**
 * One item goes as plain parameters, selected from the lock row: no derived table, so no temporary
 * table (JSON_TABLE's longtext column makes MariaDB build an on-disk one for every statement, a third of
 * a single append's server time). A batch goes as one JSON parameter unpacked by JSON_TABLE: rows as
 * positional parameters would need a UNION ALL derived table, whose temporary table MariaDB 10.11 sizes
 * from the first row and silently cuts longer values of the others (at 65,535 bytes, modulo), even in
 * strict mode.
 */
function insertStatement(table: SqlItemsTable, one: boolean): string {
  const name = `\`${table.tableName}\``;
  const columns = `${name} (sequence_id, position, topic, data)`;
  // Integer sequences are contiguous: the batch inserts only when its first position is one past
  // the sequence's last. The subquery names the lock row (l.id) so that it runs after that row is
  // locked: uncorrelated, MySQL would run it first, and its shared locks on the items table would
  // deadlock racing writers.
  const continues =
    table.kind === 'integer'
      ? ` and (select coalesce(max(s.position), -1) from ${name} as s where s.sequence_id = ? and l.id = 1) = ?`
      : '';
  const lock = `\`${table.lockTableName}\` as l`;
  if (one) {
    return table.notificationLog
      ? `insert into ${columns} select ?, ?, ?, ? from ${lock} where l.id = 1${continues} for update`
      : `insert into ${columns} values (?, ?, ?, ?)`;
  }
  const position = table.positionKind === 'integer' ? 'bigint' : 'double';
  const rows =
    `json_table(?, '$[*]' columns (n for ordinality, position ${position} path '$[0]', ` +
    `topic varchar(255) character set utf8mb4 path '$[1]', data longtext character set utf8mb4 path '$[2]')) as i`;
  const insert = `insert into ${columns} select ?, i.position, i.topic, i.data`;
  return table.notificationLog
    ? `${insert} from ${lock} join ${rows} where l.id = 1${continues} order by i.n for update`
    : `${insert} from ${rows} order by i.n`;
}
