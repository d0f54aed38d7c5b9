import { type ConcurrencyError, type SequencedItem, ValidationError } from '@es/core';
import {
  type Compilable,
  CompiledQuery,
  Kysely,
  MysqlDialect,
  type RawBuilder,
  type Transaction,
  sql,
} from 'kysely';
import { KyselyConnection, type Row } from './connection.js';
import { cannotConnect, classify, lost, mapDriverError, notContinuing, positionTaken } from './errors.js';
import { boundMysqlPool } from './request-timeout.js';
import { driverTlsOptions } from './tls.js';
import type { SqlSettings } from './settings.js';
import type { SqlItemsTable, SchemalessDatabase } from './tables.js';

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
 * the batch's rows (see insertStatement) and the row of a one-row lock table read `FOR UPDATE`: the row
 * lock is taken before any auto-increment id is drawn and held until the statement commits, so ids are
 * drawn in commit order; a duplicate key rolls the statement back. Statements are prepared once per
 * connection and batch size class.
 */
export class MysqlConnection extends KyselyConnection {
  private readonly inserts = new Map<string, string>();

  private constructor(
    settings: SqlSettings,
    db: Kysely<SchemalessDatabase>,
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
    const db = new Kysely<SchemalessDatabase>({ dialect: new MysqlDialect({ pool: pool as any }) });
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
    trx: Transaction<SchemalessDatabase>,
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): Promise<void> {
    const refused = await this.append(table, items, async (text, params) =>
      Number((await trx.executeQuery(CompiledQuery.raw(text, params))).numAffectedRows),
    );
    if (refused) throw refused;
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

  /**
   * Runs a statement prepared once per connection (mysql2 keeps them; reads take rows as arrays). A
   * connection that lost a statement is discarded, not reused. `any`: mysql2 answers rows (arrays, for
   * reads) or a result header (`affectedRows`, for appends), and each caller reads the one it expects.
   */
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

  /**
   * The statement for the batch and its parameters: the sequence id, the row (one item) or the rows as
   * one JSON parameter, and what the contiguity check compares the head with. A batch too large for one
   * packet is refused before it costs the connection.
   */
  private insertion(
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): { text: string; params: unknown[] } {
    const size = statementSize(items.length);
    const text = this.insertStatement(table, size);
    const sequenceId = items[0]!.sequenceId;
    const params: unknown[] = [sequenceId];
    let bytes = text.length + Buffer.byteLength(sequenceId) + 1024;
    if (size === 0) {
      const batch = JSON.stringify(items.map((i) => [i.position, i.topic, i.data]));
      params.push(batch);
      bytes += Buffer.byteLength(batch);
    } else {
      // The statement's slots past the batch's rows are nulls; ELT never picks them.
      const topics: (string | null)[] = new Array(size).fill(null);
      const data: (string | null)[] = new Array(size).fill(null);
      items.forEach((item, k) => {
        topics[k] = item.topic;
        data[k] = item.data;
        // A parameter's type and length take at most 11 bytes on the wire.
        bytes += Buffer.byteLength(item.topic) + Buffer.byteLength(item.data) + 22;
      });
      if (size === 1) {
        params.push(items[0]!.position, topics[0], data[0]);
      } else {
        const positions = JSON.stringify(items.map((i) => i.position));
        params.push(...topics, ...data, positions);
        bytes += positions.length + 11 * (2 * size - items.length);
      }
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

  /** The statement for batches of a size (see statementSize), made once per table and size. */
  private insertStatement(table: SqlItemsTable, size: number): string {
    const key = `${size} ${table.tableName}`;
    let text = this.inserts.get(key);
    if (text === undefined) {
      text = insertStatement(table, size);
      this.inserts.set(key, text);
    }
    return text;
  }
}

/**
 * The end of a follower's read of the notification log (selectNotifications): a locking read. Ids are
 * drawn in commit order (the lock row, see insertStatement), but on MariaDB that is not enough for a
 * plain read: a consistent read's snapshot can show a row whose id is higher than that of a row it
 * does not show yet, and a follower that checkpoints past the higher id never sees the lower one
 * (MariaDB 10.11, a polling follower and 32 writers, load 4-20: 9 rows of 568,683 skipped; with
 * this lock 0 of 783,457; see docs/sql.md). A locking read does not use a snapshot: it reads the newest committed version of
 * each row and waits for a row whose inserting transaction is still active, so it never passes a row
 * that has an id and has not finished committing. At the session's REPEATABLE READ it also locks the
 * gap past the last row it reads: appends wait for the read's statement to end (autocommit: the
 * locks go with it). MariaDB cannot lower the isolation for one statement (`SET STATEMENT
 * tx_isolation` is refused, error 1971); MySQL 5.7 and 8 accept the same text (not tested here).
 */
const FOLLOWER_READ_LOCK = sql`lock in share mode`;

/**
 * A follower's read of the log on MySQL/MariaDB: the locking read above, through the table's `id`
 * index. The index is forced because the lock is only as narrow as the plan: on a small table MariaDB
 * 10.11 plans `where id >= ? order by id limit ?` as a full scan of the primary key (sequence_id,
 * position) and a filesort (EXPLAIN: type ALL, 3 rows), and a locking read over that plan locks every
 * row and every gap of the table, where appends insert; a tracking transaction that appends to two
 * sequences could then deadlock with the read. Through the id index the read locks only the rows it
 * returns and the gap past them.
 */
export function followerRead(
  query: { modifyEnd(modifier: RawBuilder<unknown>): Compilable },
  table: string,
): Compilable {
  return {
    compile() {
      const compiled = query.modifyEnd(FOLLOWER_READ_LOCK).compile();
      const from = `from \`${table}\``;
      if (!compiled.sql.includes(from)) throw new Error(`@es/sql: no "${from}" in a follower's read`);
      return { ...compiled, sql: compiled.sql.replace(from, `${from} force index (\`${table}_id_key\`)`) };
    },
  };
}

/** Batches of up to this many items pass their topics and data as parameters of their own. */
const MAX_ITEMS_AS_PARAMETERS = 1024;

/**
 * The statement a batch goes through: 1 for one item; for more, the next power of two up to
 * MAX_ITEMS_AS_PARAMETERS (so that a connection prepares at most 11 statements per table, not one per
 * batch length); 0 for a larger batch, which goes as one JSON parameter.
 */
function statementSize(items: number): number {
  return items > MAX_ITEMS_AS_PARAMETERS ? 0 : 2 ** Math.ceil(Math.log2(items));
}

/**
 * One item goes as plain parameters, selected from the lock row. A batch's rows come from JSON_TABLE
 * over a JSON array of its positions, each row picking its topic and data from the parameters with
 * ELT(n, ...): JSON_TABLE's rows then hold no longtext column, whose on-disk (Aria) temporary table
 * MariaDB would otherwise build for every statement (the server time of a 100-item batch: 1.7-2.1 ms
 * against 0.8-1.2 ms; a third of a single append's). Rows as a UNION ALL of parameters would be
 * simpler, but MariaDB 10.11 sizes that derived table from its first row and silently cuts longer
 * values of the others (at 65,535 bytes, modulo), even in strict mode. A batch of more than
 * MAX_ITEMS_AS_PARAMETERS items goes as one JSON array of [position, topic, data] rows.
 */
function insertStatement(table: SqlItemsTable, size: number): string {
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
  if (size === 1) {
    return table.notificationLog
      ? `insert into ${columns} select ?, ?, ?, ? from ${lock} where l.id = 1${continues} for update`
      : `insert into ${columns} values (?, ?, ?, ?)`;
  }
  const position = table.positionKind === 'integer' ? 'bigint' : 'double';
  let rows: string;
  let values: string;
  if (size === 0) {
    rows =
      `json_table(?, '$[*]' columns (n for ordinality, position ${position} path '$[0]', ` +
      `topic varchar(255) character set utf8mb4 path '$[1]', data longtext character set utf8mb4 path '$[2]')) as i`;
    values = 'i.topic, i.data';
  } else {
    const slots = new Array(size).fill('?').join(', ');
    rows = `json_table(?, '$[*]' columns (n for ordinality, position ${position} path '$')) as i`;
    values = `elt(i.n, ${slots}), elt(i.n, ${slots})`;
  }
  const insert = `insert into ${columns} select ?, i.position, ${values}`;
  return table.notificationLog
    ? `${insert} from ${lock} join ${rows} where l.id = 1${continues} order by i.n for update`
    : `${insert} from ${rows} order by i.n`;
}
