/**
 * Emmett 0.42's side of `bench:following`, where it has the feature. Its follower of the log is a
 * consumer: one loop per consumer that reads batches of 100 and sleeps between reads (100 ms at first,
 * doubling to 1 s while batches come back short, 50 ms while they come back full), in the appending
 * process as in any other: it has no in-process wake-up. Its processors are a reactor (a handler per
 * message) and a projector (a projection per message), each batch in one transaction with a checkpoint
 * stored per message.
 * - latency: a reactor's `eachMessage`, from an append's start until it is called, p50/p99;
 * - projection throughput: a projector catching up over a backlog into a read model (an upsert per
 *   event), stopped by `stopAfter` at the backlog's last event, events/s; with the default pulling and
 *   with `pullingFrequencyInMs: 1` (its own cost without the 50 ms sleeps).
 * PostgreSQL runs in a database of its own (its tables have fixed names, which other runs truncate).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from '@event-driven-io/dumbo';
import {
  type AppendToStreamOptions,
  type AppendToStreamResultWithGlobalPosition,
  type Event,
  type ReadEvent,
  type ReadEventMetadataWithGlobalPosition,
  STREAM_DOES_NOT_EXIST,
} from '@event-driven-io/emmett';
import {
  getPostgreSQLEventStore,
  postgreSQLEventStoreConsumer,
  postgreSQLProjection,
} from '@event-driven-io/emmett-postgresql';
import {
  getSQLiteEventStore,
  isSQLiteError,
  sqliteConnection,
  sqliteProjection,
} from '@event-driven-io/emmett-sqlite';
import pg from 'pg';
import {
  Deliveries,
  type FollowingSizes,
  type Latency,
  appendToVisible,
  latencyOf,
  retrying,
  within,
} from './following-measure.js';

type Scored = Event<'Scored', { points: number }>;
type Recorded = ReadEvent<Scored, ReadEventMetadataWithGlobalPosition>;

/** Why Emmett has no figures on a backend we measure. */
export const emmettMissing = {
  memory:
    'getInMemoryEventStore() has no global log and no consumer in Emmett 0.42: its followers are inline projections and the onAfterCommit hook, both run inside appendToStream, so there is no follower to wait for and no backlog to catch up',
  mysql: 'Emmett 0.42 has no MySQL/MariaDB event store',
} as const;

/** What differs between Emmett's stores for these scenarios. */
interface EmmettSide {
  appendToStream(
    stream: string,
    events: Scored[],
    options: AppendToStreamOptions<bigint, Scored>,
  ): Promise<AppendToStreamResultWithGlobalPosition>;
  /** A reactor from after `position`: `run` settles when its consumer stops. */
  react(after: bigint, onMessage: () => void): { run: Promise<void>; stop(): Promise<void> };
  /** A projector into `table` from after `position`, resolved once it has processed `last`. */
  project(table: string, after: bigint, last: bigint, pullingFrequencyInMs?: number): Promise<void>;
  createTotals(table: string): Promise<void>;
  sumTotals(table: string): Promise<number>;
  /** A failure of Emmett's own that a second try gets past (its SQLite store's SQLITE_BUSY). */
  retryable?(error: unknown): boolean;
}

/** A projector that stopped before the end: Emmett's consumer logs a failed batch and stops. */
class ShortProjection extends Error {}

const scored: Scored = { type: 'Scored', data: { points: 1 } };
const expected = (version: number) => ({
  expectedStreamVersion: version === 0 ? STREAM_DOES_NOT_EXIST : BigInt(version),
});
const totalsColumns = '(stream VARCHAR(64) PRIMARY KEY, total BIGINT NOT NULL)';

/** Emmett on one backend, open: its consumer's latency, and catch-ups to run in rounds beside ours. */
export interface EmmettOpen {
  latency(): Promise<Latency>;
  /** A fresh projector over the backlog, events/s; `pullingFrequencyInMs` as its consumer's option. */
  catchUp(pullingFrequencyInMs?: number): Promise<number>;
  close(): Promise<void>;
}

async function open(
  side: EmmettSide,
  sizes: FollowingSizes,
  close: () => Promise<void>,
): Promise<EmmettOpen> {
  const attempt = <T>(what: string, run: () => Promise<T>): Promise<T> =>
    retrying(run, {
      tries: 3,
      retryable: (error) => side.retryable?.(error) === true,
      onRetry: (error) =>
        process.stderr.write(`following: Emmett's ${what} failed (${String(error)}), tried again\n`),
    });
  const append = (stream: string, events: Scored[], version: number) =>
    attempt('append', () => side.appendToStream(stream, events, expected(version)));

  const latency = async () => {
    const seed = await append(randomUUID(), [scored], 0);
    const deliveries = new Deliveries();
    const reactor = side.react(seed.lastEventGlobalPosition, () => deliveries.push());
    reactor.run.then(
      () => deliveries.fail(new Error('the consumer stopped')),
      (error: unknown) => deliveries.fail(error),
    );
    const stream = randomUUID();
    try {
      return latencyOf(
        await appendToVisible(
          () => deliveries.next(),
          (i) => side.appendToStream(stream, [scored], expected(i)),
          sizes.polled,
          sizes.warmUp,
        ),
      );
    } finally {
      await reactor.stop();
    }
  };

  const after = (await append(randomUUID(), [scored], 0)).lastEventGlobalPosition;
  let last = after;
  for (let s = 0; s < 100; s++)
    last = (
      await append(
        randomUUID(),
        Array.from({ length: Math.ceil(sizes.backlog / 100) }, () => scored),
        0,
      )
    ).lastEventGlobalPosition;
  const count = Number(last - after);
  const catchUpOnce = async (pullingFrequencyInMs?: number) => {
    const table = `bench_totals_${randomUUID().slice(0, 8)}`;
    await side.createTotals(table);
    const t0 = performance.now();
    await within(side.project(table, after, last, pullingFrequencyInMs), 120_000, "Emmett's projector");
    const seconds = (performance.now() - t0) / 1000;
    const total = await side.sumTotals(table);
    if (total !== count) throw new ShortProjection(`Emmett's projector wrote ${total} of ${count} events`);
    return count / seconds;
  };
  return {
    latency: () => attempt('latency run', latency),
    catchUp: (pullingFrequencyInMs) => attempt('catch-up', () => catchUpOnce(pullingFrequencyInMs)),
    close,
  };
}

const pulling = (pullingFrequencyInMs?: number) =>
  pullingFrequencyInMs === undefined ? {} : { pulling: { pullingFrequencyInMs } };

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function emmettPostgres(serverUrl: string, sizes: FollowingSizes): Promise<EmmettOpen> {
  const database = `es_bench_following_${process.pid}`;
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const connectionString = url.toString();
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${database}`));
  const store = getPostgreSQLEventStore(connectionString);
  const close = async () => {
    await store.close();
    await withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  };
  try {
    await store.schema.migrate();
    return await open(
      {
        appendToStream: (stream, events, options) => store.appendToStream(stream, events, options),
        react(after, onMessage) {
          const consumer = postgreSQLEventStoreConsumer<Scored>({ connectionString });
          consumer.reactor({
            processorId: `bench-follow-${randomUUID()}`,
            startFrom: { lastCheckpoint: after },
            eachMessage: async () => onMessage(),
          });
          return { run: consumer.start(), stop: () => consumer.close() };
        },
        async project(table, after, last, pullingFrequencyInMs) {
          const consumer = postgreSQLEventStoreConsumer<Scored>({
            connectionString,
            ...pulling(pullingFrequencyInMs),
          });
          consumer.projector({
            projection: postgreSQLProjection<Scored>({
              name: table,
              canHandle: ['Scored'],
              handle: async (events: Recorded[], { execute }) => {
                for (const e of events)
                  await execute.command(
                    sql(
                      `INSERT INTO ${table} (stream, total) VALUES (%L, %s) ON CONFLICT (stream) DO UPDATE SET total = ${table}.total + EXCLUDED.total`,
                      e.metadata.streamName,
                      e.data.points,
                    ),
                  );
              },
            }),
            startFrom: { lastCheckpoint: after },
            stopAfter: (m) => m.metadata.globalPosition >= last,
          });
          try {
            await consumer.start();
          } finally {
            await consumer.close();
          }
        },
        createTotals: (table) =>
          withClient(connectionString, (c) => c.query(`CREATE TABLE ${table} ${totalsColumns}`)).then(),
        sumTotals: (table) =>
          withClient(connectionString, async (c) => {
            const { rows } = await c.query<{ n: number }>(
              `SELECT COALESCE(SUM(total), 0)::int AS n FROM ${table}`,
            );
            return rows[0]!.n;
          }),
      },
      sizes,
      close,
    );
  } catch (error) {
    await close();
    throw error;
  }
}

export async function emmettSqlite(sizes: FollowingSizes): Promise<EmmettOpen> {
  const directory = mkdtempSync(join(tmpdir(), 'es-bench-following-emmett-'));
  const fileName = join(directory, 'emmett.sqlite');
  const store = getSQLiteEventStore({ fileName });
  // Emmett opens a connection per operation and closes it without waiting: the last one to close
  // checkpoints the WAL under an exclusive lock, which the next operation (no busy timeout) meets as
  // SQLITE_BUSY, even in this sequential run. A connection held open for the run keeps any close from
  // being the last; it runs no statement of its own.
  const anchor = sqliteConnection({ fileName });
  const withConnection = async <T>(use: (c: ReturnType<typeof sqliteConnection>) => Promise<T>) => {
    const connection = sqliteConnection({ fileName });
    try {
      return await use(connection);
    } finally {
      connection.close();
    }
  };
  const close = async () => {
    anchor.close();
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    return await open(
      {
        appendToStream: (stream, events, options) => store.appendToStream(stream, events, options),
        react(after, onMessage) {
          const consumer = store.consumer<Scored>();
          consumer.processor({
            processorId: `bench-follow-${randomUUID()}`,
            startFrom: { globalPosition: after },
            eachMessage: async () => onMessage(),
          });
          return { run: consumer.start(), stop: () => consumer.stop() };
        },
        async project(table, after, last, pullingFrequencyInMs) {
          const consumer = store.consumer<Scored>(pulling(pullingFrequencyInMs));
          consumer.processor({
            processorId: `bench-project-${table}`,
            projection: sqliteProjection<Scored>({
              name: table,
              canHandle: ['Scored'],
              handle: async (events: Recorded[], { connection }) => {
                for (const e of events)
                  await connection.command(
                    `INSERT INTO ${table} (stream, total) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET total = total + excluded.total`,
                    [e.metadata.streamName, e.data.points],
                  );
              },
            }),
            startFrom: { globalPosition: after },
            stopAfter: (m) => m.metadata.globalPosition >= last,
          });
          try {
            await consumer.start();
          } finally {
            await consumer.stop();
          }
        },
        createTotals: (table) =>
          withConnection((c) => c.command(`CREATE TABLE ${table} ${totalsColumns}`)).then(),
        // SQLITE_BUSY (see the anchor above), or the failed ROLLBACK after a busy BEGIN that replaces it;
        // a projector's failed batch shows as a short projection.
        retryable: (error) =>
          (isSQLiteError(error) && (error.errno === 5 || error.message.includes('cannot rollback'))) ||
          error instanceof ShortProjection,
        sumTotals: (table) =>
          withConnection(async (c) => {
            const row = await c.querySingle<{ n: number }>(
              `SELECT COALESCE(SUM(total), 0) AS n FROM ${table}`,
            );
            return Number(row?.n ?? 0);
          }),
      },
      sizes,
      close,
    );
  } catch (error) {
    await close();
    throw error;
  }
}
