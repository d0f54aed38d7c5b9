/**
 * @es's side of `bench:following`: a live Subscription (woken in process, and polling), and a
 * ProjectionRunner catching up over a backlog into a read model with tracking (SQL: an upsert per event,
 * pages of 100 per transaction; memory: a Map).
 */
import { randomUUID } from 'node:crypto';
import {
  type ApplicationRecorder,
  InMemoryActiveRecordStrategy,
  type ProcessRecorder,
  ProjectionRunner,
  SequencedItemMapper,
  Subscription,
  TopicRegistry,
  VersionedEntityEvent,
} from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlTracking,
} from '@es/sql';
import type { Transaction } from 'kysely';
import { type FollowingSizes, appendToVisible, latencyOf, within } from './following-measure.js';
import type { EsFollowing } from './following-table.js';

/** @es on one backend, open: its latencies, and catch-ups to run in rounds beside Emmett's. */
export interface EsSide {
  latency(): Promise<Omit<EsFollowing, 'eventsPerSecond'>>;
  /** A fresh ProjectionRunner over the whole log (the backlog included), events/s. */
  catchUp(): Promise<number>;
  close(): Promise<void>;
}

class Scored extends VersionedEntityEvent.withPayload<{ points: number }, typeof VersionedEntityEvent>() {}
const mapper = new SequencedItemMapper({ topics: new TopicRegistry().register('bench.Scored', Scored) });
const event = (stream: string, version: number) =>
  mapper.toSequencedItem(new Scored({ originatorId: stream, originatorVersion: version, points: 1 }));

/** The store's log without its signal: a follower in another process only polls. */
function polled(store: ApplicationRecorder): ApplicationRecorder {
  return new Proxy(store, {
    get: (target, key) => (key === 'appended' ? undefined : Reflect.get(target, key)),
  });
}

async function latency(
  store: ApplicationRecorder,
  follower: ApplicationRecorder,
  count: number,
  warmUp: number,
): Promise<Float64Array> {
  const subscription = new Subscription<Scored>(follower, mapper, { after: await store.maxNotificationId() });
  const iterator = subscription[Symbol.asyncIterator]();
  const stream = randomUUID();
  try {
    return await appendToVisible(
      () => iterator.next(),
      (i) => store.append(event(stream, i)),
      count,
      warmUp,
    );
  } finally {
    await subscription[Symbol.asyncDispose]();
  }
}

/** Opens a catch-up: a backlog of `n` events in 100 streams, then fresh projections over the whole log. */
async function catchUps<H>(
  store: ProcessRecorder<any, H>,
  add: (handle: H, stream: string, points: number) => Promise<void> | void,
  n: number,
): Promise<() => Promise<number>> {
  const streams = Array.from({ length: 100 }, () => randomUUID());
  const per = Math.ceil(n / streams.length);
  for (const stream of streams) await store.append(Array.from({ length: per }, (_, v) => event(stream, v)));
  return async () => {
    const runner = new ProjectionRunner<Scored, H>({
      projection: { name: `bench-${randomUUID()}`, process: (e, h) => add(h, e.originatorId, e.points) },
      source: store,
      mapper,
    });
    const t0 = performance.now();
    runner.start();
    await within(runner.whenCaughtUp(), 120_000, 'a ProjectionRunner catching up');
    const seconds = (performance.now() - t0) / 1000;
    await runner.stop();
    // A new projection starts at the log's beginning: it processes the latency scenarios' events too.
    return (await store.maxNotificationId()) / seconds;
  };
}

async function open<H>(
  store: ProcessRecorder<any, H>,
  add: (handle: H, stream: string, points: number) => Promise<void> | void,
  sizes: FollowingSizes,
  close: () => Promise<void>,
): Promise<EsSide> {
  return {
    latency: async () => ({
      inProcess: latencyOf(await latency(store, store, sizes.live, sizes.warmUp)),
      polling: latencyOf(await latency(store, polled(store), sizes.polled, sizes.warmUp)),
    }),
    catchUp: await catchUps(store, add, sizes.backlog),
    close,
  };
}

export function esMemory(sizes: FollowingSizes): Promise<EsSide> {
  const totals = new Map<string, number>();
  return open(
    new InMemoryActiveRecordStrategy(),
    (_h, s, p) => void totals.set(s, (totals.get(s) ?? 0) + p),
    sizes,
    async () => undefined,
  );
}

export async function esSql(url: string, sizes: FollowingSizes): Promise<EsSide> {
  const events = SqlIntegerSequencedItem.withTableName(`bench_following_${randomUUID().slice(0, 8)}`);
  const tracking = SqlTracking.withTableName(`bench_tracking_${randomUUID().slice(0, 8)}`);
  const totals = `bench_totals_${randomUUID().slice(0, 8)}`;
  const settings = new SqlSettings({ url });
  const datastore = new SqlDatastore({ settings, tables: [events, tracking] });
  await datastore.setupConnection();
  await datastore.setupTables();
  const close = async () => {
    await datastore.db.schema.dropTable(totals).ifExists().execute();
    await datastore.dropTables();
    await datastore.close();
  };
  try {
    await datastore.db.schema
      .createTable(totals)
      .addColumn('stream', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('total', 'bigint', (c) => c.notNull())
      .execute();
    const store = new SqlActiveRecordStrategy({
      datastore,
      table: events,
      tracking,
    }) as unknown as ProcessRecorder<any, Transaction<any>>;
    return await open(
      store,
      async (trx, stream, points) => {
        const insert = trx.insertInto(totals).values({ stream, total: points });
        const update = (eb: any) => ({ total: eb(`${totals}.total`, '+', points) });
        await (
          settings.dialect === 'mysql'
            ? insert.onDuplicateKeyUpdate(update)
            : insert.onConflict((oc) => oc.column('stream').doUpdateSet(update))
        ).execute();
      },
      sizes,
      close,
    );
  } catch (error) {
    await close();
    throw error;
  }
}
