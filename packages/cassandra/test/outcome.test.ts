import { randomUUID } from 'node:crypto';
import { ConcurrencyError, OutcomeUnknownError, SequencedItem, StoreConnectionError } from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import { type Client, errors, types } from 'cassandra-driver';
import {
  CassandraActiveRecordStrategy,
  type CassandraDatastore,
  CassandraSettings,
  type CqlClient,
  CqlIntegerSequencedItem,
  type CqlTable,
  CqlTimestampSequencedItem,
} from '../src/index.js';
import { cassandraAvailable, dropAndClose, openDatastore, testKeyspace } from './helpers.js';

const versions = CqlIntegerSequencedItem.withBucketSize(8);
const timestamps = CqlTimestampSequencedItem;
const item = (id: string, position: number, data = `{"p":${position}}`) =>
  new SequencedItem(id, position, 'test.Item', data);
const run = (id: string, from: number, count: number) =>
  Array.from({ length: count }, (_, i) => item(id, from + i));

type Call = { kind: 'execute' | 'batch'; query: string; options: Record<string, unknown> };
type BatchFault = (real: () => Promise<types.ResultSet>) => Promise<types.ResultSet>;

/** A client that records every call and lets a test replace what a batch or a SERIAL read does. */
function faultyClient(
  real: Client,
  faults: { batch?: BatchFault; serialRead?: () => Promise<types.ResultSet> } = {},
) {
  const calls: Call[] = [];
  const client: CqlClient = {
    execute: ((query: string, params: unknown, options: Record<string, unknown>) => {
      calls.push({ kind: 'execute', query, options });
      if (faults.serialRead && options.consistency === types.consistencies.localSerial)
        return faults.serialRead();
      return real.execute(query, params as unknown[], options);
    }) as CqlClient['execute'],
    batch: ((queries: Parameters<Client['batch']>[0], options: Record<string, unknown>) => {
      calls.push({
        kind: 'batch',
        query: queries.map((q) => (typeof q === 'string' ? q : q.query)).join('; '),
        options,
      });
      const send = () => real.batch(queries, options);
      return faults.batch ? faults.batch(send) : send();
    }) as CqlClient['batch'],
  };
  return { client, calls };
}

const writeTimeout = (): Error => {
  const error = new errors.ResponseError(
    types.responseErrorCodes.writeTimeout,
    'Operation timed out - received only 0 responses.',
  );
  return Object.assign(error, { writeType: 'CAS' });
};
const clientTimeout = (): Error =>
  new errors.OperationTimedOutError('The host 127.0.0.1:9042 did not reply before timeout 12000 ms');
const socketClosed = (): Error => Object.assign(new Error('Socket was closed'), { isSocketError: true });

/** A batch the server applies loses its answer (one that fails its condition answers normally). */
const appliedThen =
  (error: () => Error): BatchFault =>
  async (send) => {
    const result = await send();
    if (result.wasApplied()) throw error();
    return result;
  };
/** The batch never reaches the server. */
const lostThen =
  (error: () => Error): BatchFault =>
  async () => {
    throw error();
  };

describeIfAvailable(cassandraAvailable, 'unknown outcomes of a conditional batch', () => {
  let datastore: CassandraDatastore;
  let store: CassandraActiveRecordStrategy;
  const withClient = (client: CqlClient, table: CqlTable = versions) =>
    new CassandraActiveRecordStrategy({
      table,
      session: { client, keyspace: datastore.settings.keyspace, settings: datastore.settings },
    });

  beforeAll(async () => {
    datastore = await openDatastore(testKeyspace('outcome'), [versions, timestamps]);
    store = new CassandraActiveRecordStrategy({ table: versions, datastore });
  }, 120_000);
  afterAll(() => dropAndClose(datastore), 120_000);

  // The batches an append sends: one, or two when its bucket is still empty (the head check fails first).
  it.each([
    ['a write timeout, on a bucket that has items', writeTimeout, 3, 1],
    ['a client-side timeout, when opening a sequence', clientTimeout, 0, 1],
    ['a dropped connection, when opening the next bucket', socketClosed, 8, 2],
  ])(
    'applied, then %s: the append succeeds, without a resend, after a SERIAL read',
    async (_name, error, from, batches) => {
      const id = randomUUID();
      if (from > 0) await store.append(run(id, 0, from));
      const { client, calls } = faultyClient(datastore.client, { batch: appliedThen(error) });
      await withClient(client).append(run(id, from, 3));
      expect(positions(await store.getItems(id))).toEqual(range(0, from + 3));
      expect(calls.filter((c) => c.kind === 'batch')).toHaveLength(batches);
      const serial = calls.filter(
        (c) => c.options.consistency === types.consistencies.localSerial && c.query.includes('commit_id'),
      );
      expect(serial).toHaveLength(1);
    },
  );

  it('applied on a timestamp table, then a timeout: the append succeeds', async () => {
    const id = randomUUID();
    const { client, calls } = faultyClient(datastore.client, { batch: appliedThen(writeTimeout) });
    await withClient(client, timestamps).append([item(id, 1700000000000.5), item(id, 1700000000001.25)]);
    const read = await new CassandraActiveRecordStrategy({
      table: timestamps,
      datastore,
    }).getItems(id);
    expect(positions(read)).toEqual([1700000000000.5, 1700000000001.25]);
    expect(calls.filter((c) => c.kind === 'batch')).toHaveLength(1);
  });

  it('not applied, then a timeout: StoreConnectionError saying nothing was written, and no resend', async () => {
    const id = randomUUID();
    await store.append(run(id, 0, 2));
    const { client, calls } = faultyClient(datastore.client, { batch: lostThen(writeTimeout) });
    const error = await withClient(client)
      .append(run(id, 2, 3))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect((error as Error).message).toMatch(/not applied: nothing was written, it is safe to retry/);
    expect(calls.filter((c) => c.kind === 'batch')).toHaveLength(1);
    expect(positions(await store.getItems(id))).toEqual([0, 1]);
    await store.append(run(id, 2, 3)); // the retry the message allows
    expect(positions(await store.getItems(id))).toEqual(range(0, 5));
  });

  it('not applied because another writer won meanwhile: ConcurrencyError', async () => {
    const id = randomUUID();
    await store.append(run(id, 0, 2));
    const { client } = faultyClient(datastore.client, {
      batch: async () => {
        await store.append(item(id, 2, '{"other":true}'));
        throw clientTimeout();
      },
    });
    await expect(withClient(client).append(run(id, 2, 2))).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.getItems(id, { gte: 2 })).toEqual([item(id, 2, '{"other":true}')]);
  });

  it('a timeout that cannot be resolved: OutcomeUnknownError, and no resend', async () => {
    const id = randomUUID();
    const { client, calls } = faultyClient(datastore.client, {
      batch: appliedThen(writeTimeout),
      serialRead: async () => {
        throw new errors.NoHostAvailableError({ '127.0.0.1:9042': new Error('connection refused') });
      },
    });
    const error = await withClient(client)
      .append(run(id, 0, 2))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect((error as Error).message).toMatch(
      /may or may not have been applied.*Read the sequence before retrying/s,
    );
    expect(calls.filter((c) => c.kind === 'batch')).toHaveLength(1);
    expect(calls.filter((c) => c.query.includes('commit_id') && c.kind === 'execute')).toHaveLength(3);
    // It was in fact applied: a reader sees it, and a retry conflicts instead of duplicating.
    expect(positions(await store.getItems(id))).toEqual([0, 1]);
    await expect(store.append(run(id, 0, 2))).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('a refusal before anything is applied (unavailable): StoreConnectionError, without a resolving read', async () => {
    const id = randomUUID();
    const unavailable = () =>
      new errors.ResponseError(
        types.responseErrorCodes.unavailableException,
        'Cannot achieve consistency level LOCAL_SERIAL',
      );
    const { client, calls } = faultyClient(datastore.client, { batch: lostThen(unavailable) });
    await expect(withClient(client).append(item(id, 0))).rejects.toBeInstanceOf(StoreConnectionError);
    expect(calls.filter((c) => c.query.includes('commit_id') && c.kind === 'execute')).toEqual([]);
    expect(await store.getItems(id)).toEqual([]);
  });
});

describeIfAvailable(cassandraAvailable, 'statements: prepared, at the configured consistency, paged', () => {
  let datastore: CassandraDatastore;
  beforeAll(async () => {
    datastore = await openDatastore(testKeyspace('statements'), [versions.withBucketSize(1000), timestamps]);
  }, 120_000);
  afterAll(() => dropAndClose(datastore), 120_000);

  it('every read, write and resolving read is prepared and runs at the configured levels, never LOCAL_ONE', async () => {
    const settings = new CassandraSettings({
      keyspace: datastore.settings.keyspace,
      consistency: 'QUORUM',
      serialConsistency: 'SERIAL',
    });
    const { client, calls } = faultyClient(datastore.client, { batch: appliedThen(writeTimeout) });
    const s = new CassandraActiveRecordStrategy({
      table: versions.withBucketSize(1000),
      session: { client, keyspace: settings.keyspace, settings },
    });
    const id = randomUUID();
    await s.append(run(id, 0, 3));
    await s.append(run(id, 3, 2));
    await s.getItems(id, { gte: 1 });
    await s.getItems(id, { descending: true, limit: 1 });
    await s.getItem(id, 4);
    await s.listSequenceIds();
    expect(calls.length).toBeGreaterThan(8);
    const { quorum, serial, localOne } = types.consistencies;
    for (const call of calls) {
      expect({ query: call.query, prepare: call.options.prepare }).toEqual({
        query: call.query,
        prepare: true,
      });
      expect(call.options.consistency).not.toBe(localOne);
    }
    const batches = calls.filter((c) => c.kind === 'batch');
    expect(
      batches.map((c) => [c.options.consistency, c.options.serialConsistency, c.options.isIdempotent]),
    ).toEqual([
      [quorum, serial, false],
      [quorum, serial, false],
    ]);
    // Reads that decide an append (the commit check, a previous bucket's head) are SERIAL; the others QUORUM.
    const reads = calls.filter(
      (c) => c.kind === 'execute' && c.query.startsWith('SELECT') && !c.query.includes('system_schema'),
    );
    const decides = (query: string) => query.includes('commit_id') || query.startsWith('SELECT head');
    expect(reads.filter((c) => decides(c.query)).length).toBeGreaterThan(0);
    for (const c of reads)
      expect({ query: c.query, level: c.options.consistency }).toEqual({
        query: c.query,
        level: decides(c.query) ? serial : quorum,
      });
  });

  it('a long range is read in pages of fetchSize rows', async () => {
    const settings = new CassandraSettings({ keyspace: datastore.settings.keyspace, fetchSize: 4 });
    const { client, calls } = faultyClient(datastore.client);
    const s = new CassandraActiveRecordStrategy({
      table: versions.withBucketSize(1000),
      session: { client, keyspace: settings.keyspace, settings },
    });
    const id = randomUUID();
    await s.append(run(id, 0, 30));
    calls.length = 0;
    expect(positions(await s.getItems(id, { gte: 2, lt: 25 }))).toEqual(range(2, 25));
    const rowReads = calls.filter((c) => c.query.includes('SELECT position'));
    expect(rowReads.every((c) => c.options.fetchSize === 4)).toBe(true);
    expect(rowReads.filter((c) => c.options.pageState !== undefined).length).toBeGreaterThanOrEqual(5);
  });
});

function positions(items: readonly { position: number }[]): number[] {
  return items.map((i) => i.position);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
