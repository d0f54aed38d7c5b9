import { ConcurrencyError, OutcomeUnknownError, type SequencedItem, ValidationError } from '@es/core';
import { CompiledQuery, Kysely, MysqlDialect, type Transaction, sql } from 'kysely';
import { KyselyConnection, type Row } from './connection.js';
import { DEFAULT_GROUP_LIMITS, type GroupLimits } from './group-commit.js';
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
  /** The group commit's bounds: a group is one statement, so it must fit one packet (see groupLimits). */
  readonly groupLimits: GroupLimits;

  private constructor(
    settings: SqlSettings,
    db: Kysely<SchemalessDatabase>,
    private readonly pool: MysqlPool,
    /** The server's max_allowed_packet: a larger batch would cost the connection, so it is refused first. */
    private readonly maxPacketBytes: number,
    owned: boolean,
  ) {
    super(settings, db, owned);
    this.groupLimits = groupLimits(maxPacketBytes);
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

  /**
   * Several sequences' batches as ONE autocommit statement (see groupStatement): the lock row is read
   * once, each batch's rows pass only when its own contiguity check does, and a batch whose check fails
   * inserts nothing while the others are stored. Which ones were stored: all when the statement inserted
   * every row, none when it inserted none, else the rows of the statement's ids, read after the commit
   * (its ids are consecutive: they are drawn under the lock row, which no other insert into the table
   * holds at once). A taken position (a duplicate key: a table without the contiguity check) rolls the
   * whole statement back without saying whose: ConcurrencyError for the group, nothing stored.
   */
  async insertBatches(
    table: SqlItemsTable,
    batches: readonly (readonly SequencedItem[])[],
  ): Promise<(ConcurrencyError | undefined)[]> {
    const { text, params } = this.groupInsertion(table, batches);
    const what = `an append to ${table.tableName}`;
    let header: { affectedRows: number; insertId: number };
    try {
      header = await this.execute(text, params);
    } catch (error) {
      if (classify(error) === 'unique')
        throw new ConcurrencyError(
          `a position of one of ${batches.length} appends to ${table.tableName} is taken: none was stored`,
          undefined,
          undefined,
          { cause: error },
        );
      throw mapDriverError(this.settings, error, { write: true, what });
    }
    const inserted = Number(header.affectedRows);
    const items = batches.reduce((sum, batch) => sum + batch.length, 0);
    if (inserted === items) return batches.map(() => undefined);
    if (inserted === 0) return batches.map(notContinuing);
    let rows: Row[];
    try {
      rows = await this.execute(
        {
          sql: `select sequence_id, count(*) from \`${table.tableName}\` where id between ? and ? group by sequence_id`,
          rowsAsArray: true,
        },
        [header.insertId, Number(header.insertId) + inserted - 1],
      );
    } catch (error) {
      throw mapDriverError(this.settings, error, { write: true, what: `the outcome of ${what}` });
    }
    const stored = new Map(rows.map(([id, count]) => [String(id), Number(count)]));
    const outcomes = batches.map((batch) =>
      stored.get(batch[0]!.sequenceId) === batch.length ? undefined : notContinuing(batch),
    );
    const found = batches.reduce((sum, batch, b) => sum + (outcomes[b] ? 0 : batch.length), 0);
    if (found !== inserted)
      throw new OutcomeUnknownError(
        `${what} stored ${inserted} of ${items} items, but the ids it drew do not hold them`,
      );
    return outcomes;
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

  /**
   * The statement for a group of batches and its parameters: each batch's sequence id (twice with the
   * contiguity check), each item's topic and data, and the rows as one JSON array of [batch, position,
   * head the batch continues]. The group's bounds (groupLimits) keep it within one packet.
   */
  private groupInsertion(
    table: SqlItemsTable,
    batches: readonly (readonly SequencedItem[])[],
  ): { text: string; params: unknown[] } {
    const items = batches.reduce((sum, batch) => sum + batch.length, 0);
    const batchSlots = 2 ** Math.ceil(Math.log2(batches.length));
    const itemSlots = 2 ** Math.ceil(Math.log2(items));
    if (itemSlots > MAX_ITEMS_AS_PARAMETERS)
      throw new Error(`@es/sql: a group of ${items} items passes MySQL's group limit`);
    const key = `group ${batchSlots} ${itemSlots} ${table.tableName}`;
    let text = this.inserts.get(key);
    if (text === undefined) this.inserts.set(key, (text = groupStatement(table, batchSlots, itemSlots)));
    const sequenceIds: (string | null)[] = new Array(batchSlots).fill(null);
    const topics: (string | null)[] = new Array(itemSlots).fill(null);
    const data: (string | null)[] = new Array(itemSlots).fill(null);
    const rows: number[][] = [];
    const contiguous = table.kind === 'integer';
    let bytes = text.length + 1024;
    let k = 0;
    batches.forEach((batch, b) => {
      sequenceIds[b] = batch[0]!.sequenceId;
      bytes += 2 * Buffer.byteLength(sequenceIds[b]!) + 22;
      const head = batch[0]!.position - 1;
      for (const item of batch) {
        topics[k] = item.topic;
        data[k++] = item.data;
        rows.push(contiguous ? [b + 1, item.position, head] : [b + 1, item.position]);
        bytes += Buffer.byteLength(item.topic) + Buffer.byteLength(item.data) + 22;
      }
    });
    const json = JSON.stringify(rows);
    bytes += json.length + 11 * (2 * itemSlots + 2 * batchSlots - 2 * items - 2 * batches.length);
    if (bytes > this.maxPacketBytes)
      throw new Error(
        `@es/sql: a group of ${bytes} bytes passes max_allowed_packet (${this.maxPacketBytes})`,
      );
    const params: unknown[] = [...sequenceIds, ...topics, ...data, json];
    if (contiguous) params.push(...sequenceIds);
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

/**
 * The group committer's bounds on MySQL: a group is one statement of parameters (at most
 * MAX_ITEMS_AS_PARAMETERS items), within max_allowed_packet. A character takes at most 3 bytes of
 * UTF-8 (a 4-byte character is 2 UTF-16 units); the sequence ids (up to 1,020 bytes each, twice per
 * batch) and the per-item overheads are kept out of the characters' share.
 */
function groupLimits(maxPacketBytes: number): GroupLimits {
  const maxItems = Math.min(DEFAULT_GROUP_LIMITS.maxItems, MAX_ITEMS_AS_PARAMETERS);
  const reserve = maxItems * (2 * 1020 + 2 * 22 + 64) + 65_536;
  return {
    ...DEFAULT_GROUP_LIMITS,
    maxItems,
    maxChars: Math.max(
      0,
      Math.min(DEFAULT_GROUP_LIMITS.maxChars, Math.floor((maxPacketBytes - reserve) / 3)),
    ),
  };
}

/**
 * The statement of a group of batches (group commit): as insertStatement's for a batch, but each row
 * also names its batch, whose sequence id it picks with ELT(batch, ...), and whose head it must
 * continue (integer tables): each batch's check is on its own rows, so a failing batch inserts none of
 * them and the others are stored. MariaDB caches a correlated subquery's result by its arguments, so
 * the head is read once per batch. Made per table, number of batch slots and number of item slots
 * (powers of two, items at most MAX_ITEMS_AS_PARAMETERS).
 */
function groupStatement(table: SqlItemsTable, batchSlots: number, itemSlots: number): string {
  const name = `\`${table.tableName}\``;
  const sequence = `elt(i.b, ${new Array(batchSlots).fill('?').join(', ')})`;
  const items = new Array(itemSlots).fill('?').join(', ');
  const position = table.positionKind === 'integer' ? 'bigint' : 'double';
  const contiguous = table.kind === 'integer';
  const rows =
    `json_table(?, '$[*]' columns (n for ordinality, b int path '$[0]', position ${position} path '$[1]'` +
    `${contiguous ? `, head ${position} path '$[2]'` : ''})) as i`;
  const insert = `insert into ${name} (sequence_id, position, topic, data) select ${sequence}, i.position, elt(i.n, ${items}), elt(i.n, ${items})`;
  // As in insertStatement, the check names the lock row (l.id) so that it runs after the row is locked.
  // Integer tables (the only ones with the check) keep a notification log, so they have the lock row.
  const continues = contiguous
    ? ` and (select coalesce(max(s.position), -1) from ${name} as s where s.sequence_id = ${sequence} and l.id = 1) = i.head`
    : '';
  return table.notificationLog
    ? `${insert} from \`${table.lockTableName}\` as l join ${rows} where l.id = 1${continues} order by i.n for update`
    : `${insert} from ${rows} order by i.n`;
}
