import { createHash } from 'node:crypto';
import { ConcurrencyError, type SequencedItem } from '@es/core';
import { CompiledQuery, Kysely, PostgresDialect, type Transaction } from 'kysely';
import { KyselyConnection, type Row } from './connection.js';
import { cannotConnect, classify, lost, mapDriverError, notContinuing, positionTaken } from './errors.js';
import { boundPostgresPool } from './request-timeout.js';
import { driverTlsOptions } from './tls.js';
import type { SqlSettings } from './settings.js';
import type { SqlItemsTable, SchemalessDatabase } from './tables.js';

/**
 * The part of a node-postgres pool used here and by Kysely: a `pg.Pool` is one (its types stay out of
 * the public API). The user's own pool may be passed to SqlDatastore as it is.
 */
export interface PostgresPool {
  connect(): Promise<PostgresPoolClient>;
  end(): Promise<void>;
}
export interface PostgresPoolClient {
  /** A named prepared statement (the store's appends and reads; reads take their rows as arrays). */
  query(config: {
    name: string;
    text: string;
    values: readonly unknown[];
    rowMode?: 'array';
    // Rows are `any[]`: arrays for the store's reads (rowMode 'array'), objects for RETURNING; node-postgres's own type.
  }): Promise<{ rows: any[]; rowCount?: number | null }>;
  /** Kysely's queries. */
  query(text: string, values: unknown[]): Promise<{ rows: Record<string, any>[] }>;
  release(destroy?: Error | boolean): void;
}
/** The pool the datastore makes for itself, and what it does to it. */
interface OwnPool extends PostgresPool {
  on(event: 'error', listener: (error: Error) => void): void;
  on(
    event: 'connect',
    listener: (client: { on(event: 'error', listener: (error: Error) => void): void }) => void,
  ): void;
}

/** The first half of every advisory lock key of @es/sql ("ES" in ASCII); the second is the table's. */
export const LOCK_NAMESPACE = 0x4553;

/** A 32-bit signed hash of a table name (FNV-1a): the table's advisory lock key. */
export function lockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/**
 * PostgreSQL through node-postgres. An append is ONE autocommit statement: it first takes the table's
 * transaction-scoped advisory lock, then draws ids from the identity sequence and inserts the rows
 * from arrays. The lock is held until the statement's implicit commit, so ids are drawn in commit
 * order, and a unique violation rolls the whole statement back. The statement is a named prepared
 * statement, planned once per connection: one for a single event (plain parameters), one for every
 * larger batch size (rows from arrays).
 */
export class PostgresConnection extends KyselyConnection {
  private readonly inserts = new Map<string, { name: string; text: string }>();
  private readonly singleInserts = new Map<string, { name: string; text: string }>();
  private readonly batchInserts = new Map<string, { name: string; text: string }>();
  /** Statement names by SQL text: each connection prepares a named statement once. */
  private readonly names = new Map<string, string>();

  private constructor(
    settings: SqlSettings,
    db: Kysely<SchemalessDatabase>,
    private readonly pool: PostgresPool,
    owned: boolean,
  ) {
    super(settings, db, owned);
  }

  /** Over a pool of the user's: used as it is (its settings, its error listeners), never ended. */
  static over(settings: SqlSettings, pool: PostgresPool): PostgresConnection {
    const bounded = boundPostgresPool(pool, settings.requestTimeoutMs);
    return new PostgresConnection(settings, kysely(bounded), bounded, false);
  }

  static open(settings: SqlSettings, pg: { Pool: new (config: object) => OwnPool }): PostgresConnection {
    const pool = new pg.Pool({
      host: settings.host,
      port: settings.port,
      user: settings.user,
      password: settings.password,
      database: settings.database,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      idleTimeoutMillis: settings.idleTimeoutMs,
      application_name: 'es-sql',
      // Also bounds the wait for the advisory lock, which a writer otherwise waits for forever.
      options: `-c lock_timeout=${settings.lockTimeoutMs}`,
      ssl: driverTlsOptions(settings.tls),
    });
    // A connection that breaks (a server restart, a network cut) fails the query that uses it, or its
    // next use: its 'error' event must not crash the process.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    const bounded = boundPostgresPool(pool, settings.requestTimeoutMs);
    return new PostgresConnection(settings, kysely(bounded), bounded, true);
  }

  async insertItems(table: SqlItemsTable, items: readonly SequencedItem[]): Promise<void> {
    let inserted: number | null | undefined;
    try {
      inserted = (await this.query(this.insertStatement(table, items.length), insertValues(items))).rowCount;
    } catch (error) {
      if (classify(error) === 'unique') throw positionTaken(items, error);
      throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.tableName}` });
    }
    // The contiguity check is part of the statement: when it fails, the statement inserts no row.
    if (table.kind === 'integer' && inserted === 0) throw notContinuing(items);
  }

  /**
   * Several sequences' batches in ONE statement: the lock once, then every batch's rows, each batch
   * inserted only if its own contiguity check holds; the statement returns the sequences it stored. A
   * unique violation (another process took a position) rolls the whole statement back, and does not say
   * whose: it rejects with a ConcurrencyError for the group (see SqlConnection.insertBatches).
   */
  async insertBatches(
    table: SqlItemsTable,
    batches: readonly (readonly SequencedItem[])[],
  ): Promise<(ConcurrencyError | undefined)[]> {
    let stored: Set<string>;
    try {
      const { rows } = await this.query(this.batchesStatement(table), batchesValues(batches));
      stored = new Set(rows.map((row) => row.sequence_id as string));
    } catch (error) {
      if (classify(error) === 'unique')
        throw new ConcurrencyError(
          `a position of one of ${batches.length} appends to ${table.tableName} is taken: none was stored`,
          undefined,
          undefined,
          { cause: error },
        );
      throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.tableName}` });
    }
    return batches.map((items) => (stored.has(items[0]!.sequenceId) ? undefined : notContinuing(items)));
  }

  /** The same statement in the transaction: its advisory lock is then held until the transaction ends. */
  async insertItemsIn(
    trx: Transaction<SchemalessDatabase>,
    table: SqlItemsTable,
    items: readonly SequencedItem[],
  ): Promise<void> {
    let inserted: bigint | undefined;
    try {
      inserted = (
        await trx.executeQuery(
          CompiledQuery.raw(this.insertStatement(table, items.length).text, insertValues(items)),
        )
      ).numAffectedRows;
    } catch (error) {
      if (classify(error) === 'unique') throw positionTaken(items, error);
      throw mapDriverError(this.settings, error, { write: true, what: `an append to ${table.tableName}` });
    }
    // The contiguity check is part of the statement: when it fails, the statement inserts no row.
    if (table.kind === 'integer' && inserted === 0n) throw notContinuing(items);
  }

  async select(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return (await this.query({ name: this.nameOf(sql), text: sql, rowMode: 'array' }, params)).rows;
  }

  /** A statement's name, from its text: a name is never reused for another text. */
  private nameOf(text: string): string {
    let name = this.names.get(text);
    if (name === undefined)
      this.names.set(text, (name = `es_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`));
    return name;
  }

  /**
   * Runs a named statement on a pooled connection, discarding the connection if it was lost. Rows are
   * `any[]` as PostgresPoolClient's are: arrays for reads, objects for an append's RETURNING.
   */
  private async query(
    statement: { name: string; text: string; rowMode?: 'array' },
    values: readonly unknown[],
  ): Promise<{ rows: any[]; rowCount?: number | null }> {
    let client: PostgresPoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw cannotConnect(this.settings, error);
    }
    let broken: Error | undefined;
    try {
      return await client.query({ ...statement, values });
    } catch (error) {
      if (lost(error)) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * The append's statement: for one event, its columns as plain parameters ($1 to $4); for more, rows
   * from arrays. A single event's statement costs the server about half the CPU of the arrays' (no
   * array input, function scan or sort; probes/pg-single-shapes.ts) and the client less to send.
   */
  private insertStatement(table: SqlItemsTable, count: number): { name: string; text: string } {
    if (count === 1) return this.singleInsertStatement(table);
    let statement = this.inserts.get(table.tableName);
    if (statement === undefined) {
      const positions = table.positionKind === 'integer' ? 'bigint[]' : 'float8[]';
      const rows = `unnest($2::${positions}, $3::text[], $4::text[]) with ordinality as i (position, topic, data, n)`;
      const insert = `insert into "${table.tableName}" (sequence_id, position, topic, data) select $1, i.position, i.topic, i.data`;
      // Integer sequences are contiguous: the batch inserts only when its first position is one past
      // the sequence's last (a writer racing for the same position then meets the primary key).
      const continues =
        table.kind === 'integer'
          ? ` where (select coalesce(max(position), -1) from "${table.tableName}" where sequence_id = $1) = $2[1] - 1`
          : '';
      const text = table.notificationLog
        ? `with ordering as (select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${lockKey(table.tableName)})) ${insert} from ordering, ${rows}${continues} order by i.n`
        : `${insert} from ${rows} order by i.n`;
      statement = { name: this.nameOf(text), text };
      this.inserts.set(table.tableName, statement);
    }
    return statement;
  }

  /** insertStatement for one event: the same lock and contiguity check, the row from $1 to $4. */
  private singleInsertStatement(table: SqlItemsTable): { name: string; text: string } {
    let statement = this.singleInserts.get(table.tableName);
    if (statement === undefined) {
      const position = table.positionKind === 'integer' ? '$2::bigint' : '$2::float8';
      const insert = `insert into "${table.tableName}" (sequence_id, position, topic, data) select $1, ${position}, $3::text, $4::text`;
      const continues =
        table.kind === 'integer'
          ? ` where (select coalesce(max(position), -1) from "${table.tableName}" where sequence_id = $1) = ${position} - 1`
          : '';
      const text = table.notificationLog
        ? `with ordering as (select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${lockKey(table.tableName)})) ${insert} from ordering${continues}`
        : `${insert}${continues}`;
      statement = { name: this.nameOf(text), text };
      this.singleInserts.set(table.tableName, statement);
    }
    return statement;
  }

  /** insertStatement for many batches: rows from arrays, each joined to its batch, which may not insert. */
  private batchesStatement(table: SqlItemsTable): { name: string; text: string } {
    let statement = this.batchInserts.get(table.tableName);
    if (statement === undefined) {
      const positions = table.positionKind === 'integer' ? 'bigint[]' : 'float8[]';
      const from =
        `unnest($1::text[], $2::${positions}) with ordinality as b (sequence_id, first, batch)` +
        ` join unnest($3::${positions}, $4::text[], $5::text[], $6::bigint[]) with ordinality as i (position, topic, data, batch, n) on i.batch = b.batch`;
      const continues =
        table.kind === 'integer'
          ? ` where (select coalesce(max(position), -1) from "${table.tableName}" where sequence_id = b.sequence_id) = b.first - 1`
          : '';
      const insert = `insert into "${table.tableName}" (sequence_id, position, topic, data) select b.sequence_id, i.position, i.topic, i.data from ${table.notificationLog ? 'ordering, ' : ''}${from}${continues} order by i.n returning sequence_id`;
      const text = table.notificationLog
        ? `with ordering as (select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${lockKey(table.tableName)})), stored as (${insert}) select distinct sequence_id from stored`
        : `with stored as (${insert}) select distinct sequence_id from stored`;
      statement = { name: this.nameOf(text), text };
      this.batchInserts.set(table.tableName, statement);
    }
    return statement;
  }
}

/**
 * The grouped insert's parameters: per batch its sequence id and first position, then per item its
 * position, topic, data and batch (1-based, as `with ordinality` counts).
 */
function batchesValues(batches: readonly (readonly SequencedItem[])[]): unknown[] {
  const positions: number[] = [];
  const topics: string[] = [];
  const data: string[] = [];
  const owners: number[] = [];
  batches.forEach((items, b) => {
    for (const item of items) {
      positions.push(item.position);
      topics.push(item.topic);
      data.push(item.data);
      owners.push(b + 1);
    }
  });
  return [
    batches.map((items) => items[0]!.sequenceId),
    batches.map((items) => items[0]!.position),
    positions,
    topics,
    data,
    owners,
  ];
}

/**
 * The insert's parameters: the sequence id, then the position, topic and data, as they are for one
 * event (singleInsertStatement), as arrays for more.
 */
function insertValues(items: readonly SequencedItem[]): unknown[] {
  if (items.length === 1) {
    const item = items[0]!;
    return [item.sequenceId, item.position, item.topic, item.data];
  }
  return [
    items[0]!.sequenceId,
    items.map((i) => i.position),
    items.map((i) => i.topic),
    items.map((i) => i.data),
  ];
}

function kysely(pool: PostgresPool): Kysely<SchemalessDatabase> {
  // Kysely's PostgresPool type names more of node-postgres than the store needs.
  return new Kysely({ dialect: new PostgresDialect({ pool: pool as any }) });
}
