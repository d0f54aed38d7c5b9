/**
 * The stores `pnpm bench:memory` reads: one per backend and size, filled once with one long stream (its
 * events are the log's too), by EventStore.append in large batches. A store on a server or in a file
 * outlives the process that filled it, so each read runs in a fresh process that only opens it.
 */
import { join } from 'node:path';
import {
  type AggregateRecorder,
  EventStore,
  InMemoryActiveRecordStrategy,
  SequencedItemMapper,
  type VersionedEntityEvent,
} from '@es/core';
import type { BackendName } from '@es/servers';
import type { Connections } from '../backends.js';
import { BenchEntity } from '../domain.js';
import type { Progress } from '../scenarios/runner.js';

/** Events per append while filling: large, for speed, and under every backend's batch limits. */
export const FILL_BATCH = 5000;

/** Why a backend's store has no log to read (the reads `log` and `subscription` are then not run). */
export function noLogOn(backend: BackendName): string | undefined {
  return backend === 'cassandra'
    ? "its table is made without the feed (copying 1M events into the feed is the sequencer's test: bench:feed)"
    : undefined;
}

export interface MemoryStore {
  readonly events: AggregateRecorder;
  close(): Promise<void>;
  /** Drops what the fill created (tables, a keyspace's table); the in-memory store has nothing to drop. */
  drop(): Promise<void>;
}

/** The one stream of a store of `size` events: a fixed UUID, so that every process finds it. */
export function streamOf(size: number): string {
  return `00000000-0000-4000-8000-${size.toString().padStart(12, '0')}`;
}

/** The same mapper (the process-wide topics, where BenchEntity's events are registered) for every store. */
export const mapper = new SequencedItemMapper();

/** Opens the store of `size` events on `backend`, creating its tables when `create` is set. */
export async function openStore(
  backend: BackendName,
  size: number,
  connections: Connections,
  { create }: { create: boolean },
): Promise<MemoryStore> {
  if (backend === 'memory') {
    return { events: new InMemoryActiveRecordStrategy(), close: async () => {}, drop: async () => {} };
  }
  if (backend === 'cassandra') {
    const { CassandraActiveRecordStrategy, CassandraDatastore, CassandraSettings, CqlIntegerSequencedItem } =
      await import('@es/cassandra');
    const table = CqlIntegerSequencedItem.withTableName(`memory_${size}`);
    const settings = new CassandraSettings({ url: connections.urls.cassandra, keyspace: 'es_bench_memory' });
    const datastore = new CassandraDatastore({ settings, tables: [table] });
    await datastore.setupConnection();
    if (create) {
      await datastore.dropTables();
      await datastore.setupTables();
    }
    return {
      events: new CassandraActiveRecordStrategy({ table, datastore }),
      close: () => datastore.close(),
      drop: () => datastore.dropTables(),
    };
  }
  const { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } =
    await import('@es/sql');
  const table = SqlIntegerSequencedItem.withTableName(`es_bench_memory_${size}`);
  const url =
    backend === 'sqlite'
      ? `sqlite:${join(connections.sqliteDir, `memory-${size}.sqlite`)}`
      : connections.urls[backend];
  const datastore = new SqlDatastore({ settings: new SqlSettings({ url }), tables: [table] });
  await datastore.setupConnection();
  if (create) {
    await datastore.dropTables();
    await datastore.setupTables();
  }
  return {
    events: new SqlActiveRecordStrategy({ datastore, table }),
    close: () => datastore.close(),
    drop: () => datastore.dropTables(),
  };
}

/** A value of about 64 characters, different for every event (as the bench's other scenarios write). */
const valueOf = (position: number): string =>
  `memory-bench-value-${position.toString().padStart(12, '0')}-`.padEnd(64, 'x');

/** Appends the stream of `size` events (Created, then changes) in batches of FILL_BATCH. */
export async function fill(events: AggregateRecorder, size: number, progress: Progress): Promise<void> {
  const store = new EventStore<VersionedEntityEvent>({
    activeRecordStrategy: events,
    sequencedItemMapper: mapper,
  });
  const stream = streamOf(size);
  for (let from = 0; from < size; from += FILL_BATCH) {
    const batch: VersionedEntityEvent[] = [];
    for (let p = from; p < Math.min(size, from + FILL_BATCH); p++) {
      batch.push(
        p === 0
          ? new BenchEntity.Created({ originatorId: stream, originatorVersion: 0, value: valueOf(0) })
          : new BenchEntity.AttributeChanged({
              originatorId: stream,
              originatorVersion: p,
              name: 'value',
              value: valueOf(p),
            }),
      );
    }
    await store.append(batch);
    progress.step('filling', from + batch.length, size);
  }
}
