import { randomUUID } from 'node:crypto';
import {
  ConcurrencyError,
  InMemoryActiveRecordStrategy,
  type ItemQuery,
  SequencedItem,
  SettingsError,
  ValidationError,
} from '@es/core';
import { describeIfAvailable } from '@es/testing/conformance';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CqlIntegerSequencedItem,
  CqlSnapshot,
  CqlTimestampSequencedItem,
} from '../src/index.js';
import { cassandraAvailable, dropAndClose, openDatastore, testKeyspace } from './helpers.js';

const B = 8;
const versions = CqlIntegerSequencedItem.withBucketSize(B);
const timestamps = CqlTimestampSequencedItem.withBucketSize(1000); // one-second buckets
const snapshots = CqlSnapshot.withBucketSize(B);

const item = (id: string, position: number, data = `{"p":${position}}`) =>
  new SequencedItem(id, position, 'test.Item', data);
const run = (id: string, from: number, count: number, data?: (p: number) => string) =>
  Array.from({ length: count }, (_, i) => item(id, from + i, data?.(from + i)));
const positions = (items: readonly { position: number }[]) => items.map((i) => i.position);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describeIfAvailable(
  cassandraAvailable,
  'CassandraActiveRecordStrategy on a real node (bucket size 8)',
  () => {
    let datastore: CassandraDatastore;
    let store: CassandraActiveRecordStrategy;

    beforeAll(async () => {
      datastore = await openDatastore(testKeyspace('append'), [versions, timestamps, snapshots]);
      store = new CassandraActiveRecordStrategy({ table: versions, datastore });
    }, 120_000);
    afterAll(() => dropAndClose(datastore), 120_000);

    describe('integer sequences are contiguous from 0', () => {
      it('the first append must start at 0, and each next one right after the last item', async () => {
        const id = randomUUID();
        for (const p of [1, 8, 9])
          await expect(store.append(item(id, p))).rejects.toBeInstanceOf(ConcurrencyError);
        await store.append(run(id, 0, 3));
        const gap = await store.append(item(id, 4)).catch((e: unknown) => e);
        expect(gap).toBeInstanceOf(ConcurrencyError);
        expect(gap).toMatchObject({ sequenceId: id, position: 4 });
        expect((gap as Error).message).toContain('ends at 2');
        const taken = await store.append(item(id, 2)).catch((e: unknown) => e);
        expect((taken as Error).message).toContain('already taken');
        // Conflicts are expected and retried: built without a stack trace (its capture was most of their cost).
        for (const conflict of [gap, taken]) expect((conflict as Error).stack).not.toContain('\n    at ');
        await store.append(item(id, 3));
        expect(positions(await store.getItems(id))).toEqual([0, 1, 2, 3]);
      });

      it('a gap across a bucket boundary is rejected, and nothing is written', async () => {
        const id = randomUUID();
        await store.append(run(id, 0, 7));
        for (const p of [8, 9, 16, 17])
          await expect(store.append(run(id, p, 3))).rejects.toBeInstanceOf(ConcurrencyError);
        expect(positions(await store.getItems(id))).toEqual(range(0, 7));
        await store.append(run(id, 7, 3));
        expect(positions(await store.getItems(id))).toEqual(range(0, 10));
      });
    });

    describe('a batch with one clashing item writes nothing', () => {
      it.each([
        ['its first item', 4, 6],
        ['its last item', 0, 5], // on a new bucket, then on an existing one
        ['one in the middle, across a bucket boundary', 3, 9],
      ])('%s', async (_name, from, count) => {
        const id = randomUUID();
        await store.append(run(id, 0, 5));
        await store.append(run(id, 5, 1));
        const clash = run(id, from, count, (p) => `{"clash":${p}}`);
        await expect(store.append(clash)).rejects.toBeInstanceOf(ConcurrencyError);
        const stored = await store.getItems(id);
        expect(stored).toEqual(run(id, 0, 6));
        for (const p of range(6, 15)) await expect(store.getItem(id, p)).rejects.toThrow(/no item/);
      });
    });

    describe('bucket boundaries', () => {
      // Batches of every shape: inside a bucket, ending on a boundary, straddling one, spanning several.
      const sizes = [1, 2, 4, 1, 8, 3, 9, 17, 1, 1, 6, 30, 2, 7, 1];
      const total = sizes.reduce((a, b) => a + b, 0);
      const id = randomUUID();
      const reference = new InMemoryActiveRecordStrategy();

      beforeAll(async () => {
        let from = 0;
        for (const size of sizes) {
          const batch = run(id, from, size, (p) => JSON.stringify({ p, pad: 'x'.repeat(p % 13) }));
          await store.append(batch);
          await reference.append(batch);
          from += size;
        }
      }, 60_000);

      it('reads every item back, whole and one by one', async () => {
        expect(await store.getItems(id)).toEqual(await reference.getItems(id));
        for (const p of range(0, total))
          expect(await store.getItem(id, p)).toEqual(await reference.getItem(id, p));
        await expect(store.getItem(id, total)).rejects.toThrow(/no item/);
      }, 60_000);

      it('answers ranges from every start, both ways, with and without limits', async () => {
        const queries: ItemQuery[] = [];
        for (let v = 0; v <= total + 1; v += 1) {
          queries.push(
            { gte: v },
            { gt: v, limit: 3 },
            { lt: v, descending: true },
            { lte: v, descending: true, limit: 5 },
          );
          queries.push({ gte: v, lt: v + 11 }, { gte: v, lte: v + 20, descending: true, limit: 9 });
        }
        queries.push(
          { descending: true, limit: 1 },
          { limit: 1 },
          { gt: 2.5, lt: 40.5 },
          { gte: -5, lte: 1e12, descending: true },
        );
        const wrong: unknown[] = [];
        // The writer (which knows the buckets from its appends) and a reader that starts knowing nothing.
        const reader = new CassandraActiveRecordStrategy({ table: versions, datastore });
        for (const q of queries) {
          const [actual, cold, expected] = await Promise.all([
            store.getItems(id, q),
            reader.getItems(id, q),
            reference.getItems(id, q),
          ]);
          if (JSON.stringify(positions(actual)) !== JSON.stringify(positions(expected)))
            wrong.push({ q, actual: positions(actual) });
          if (JSON.stringify(positions(cold)) !== JSON.stringify(positions(expected)))
            wrong.push({ q, reader: positions(cold) });
        }
        expect(wrong).toEqual([]);
      }, 120_000);

      it('iterates in pages smaller than a bucket, both ways', async () => {
        const up: number[] = [];
        for await (const i of store.iterateItems(id, { gte: 5, pageSize: 3 })) up.push(i.position);
        expect(up).toEqual(range(5, total));
        const down: number[] = [];
        for await (const i of store.iterateItems(id, { lt: 70, descending: true, pageSize: 5, limit: 40 }))
          down.push(i.position);
        expect(down).toEqual(range(30, 70).reverse());
      });

      it('continues after a batch that spans several buckets', async () => {
        const other = randomUUID();
        await store.append(run(other, 0, 3 * B + 2)); // 0..25, all in bucket 0
        await store.append(run(other, 3 * B + 2, 1)); // 26: opens bucket 3, checking bucket 0's head
        await expect(store.append(item(other, 26))).rejects.toBeInstanceOf(ConcurrencyError);
        expect(positions(await store.getItems(other, { gte: 20 }))).toEqual(range(20, 27));
        expect(positions(await store.getItems(other, { lte: 17, descending: true, limit: 2 }))).toEqual([
          17, 16,
        ]);
      });
    });

    describe('concurrent writers', () => {
      const WRITERS = 8;

      it(`${WRITERS} writers appending batches of 1 to 12 items across buckets: versions unique and contiguous`, async () => {
        const id = randomUUID();
        const target = 120;
        const won: Array<{ writer: number; from: number; count: number }> = [];
        let conflicts = 0;
        const writer = async (w: number): Promise<void> => {
          let round = 0;
          while (true) {
            const [last] = await store.getItems(id, { descending: true, limit: 1 });
            const from = last === undefined ? 0 : last.position + 1;
            if (from >= target) return;
            const count = 1 + ((w * 7 + round++ * 5) % 12);
            try {
              await store.append(run(id, from, count, (p) => JSON.stringify({ w, p })));
              won.push({ writer: w, from, count });
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              conflicts += 1;
            }
          }
        };
        await Promise.all(range(0, WRITERS).map(writer));

        const stored = await store.getItems(id);
        const end = Math.max(...won.map((b) => b.from + b.count));
        expect(positions(stored)).toEqual(range(0, end));
        // The winning batches tile the sequence exactly, and every stored item is its winner's.
        won.sort((a, b) => a.from - b.from);
        let next = 0;
        for (const batch of won) {
          expect(batch.from).toBe(next);
          next += batch.count;
        }
        for (const r of stored) {
          const batch = won.find((b) => r.position >= b.from && r.position < b.from + b.count)!;
          expect(JSON.parse(r.data)).toEqual({ w: batch.writer, p: r.position });
        }
        expect(conflicts).toBeGreaterThan(0);
        expect(new Set(won.map((b) => Math.floor(b.from / B))).size).toBeGreaterThan(5);
      }, 120_000);

      it.each([
        ['an empty sequence', 0],
        ['the middle of a bucket', 3],
        ['a bucket boundary', 8],
        ['the middle of a later bucket', 13],
      ])(`${WRITERS} writers expecting the same position at %s: exactly one wins`, async (_name, from) => {
        const id = randomUUID();
        if (from > 0) await store.append(run(id, 0, from));
        // Different sizes, so some straddle the next boundary and some do not.
        const outcomes = await Promise.allSettled(
          range(0, WRITERS).map((w) =>
            store.append(run(id, from, 1 + w * 2, (p) => JSON.stringify({ w, p }))),
          ),
        );
        const winners = outcomes.flatMap((o, w) => (o.status === 'fulfilled' ? [w] : []));
        expect(winners).toHaveLength(1);
        expect(
          outcomes.filter((o) => o.status === 'rejected' && !(o.reason instanceof ConcurrencyError)),
        ).toEqual([]);
        const w = winners[0]!;
        expect(await store.getItems(id, { gte: from })).toEqual(
          run(id, from, 1 + w * 2, (p) => JSON.stringify({ w, p })),
        );
        expect(positions(await store.getItems(id))).toEqual(range(0, from + 1 + w * 2));
      });
    });

    describe('timestamp table (one-second buckets)', () => {
      let ts: CassandraActiveRecordStrategy;
      beforeAll(() => {
        ts = new CassandraActiveRecordStrategy({ table: timestamps, datastore });
      });

      it('keeps items in time buckets and reads across them both ways', async () => {
        const id = randomUUID();
        const ps = [999.999, 1000, 1500.25, 2999.5, 7000.001, 7000.002, 123456.789];
        await ts.append(item(id, ps[0]!));
        await ts.append([item(id, 1000), item(id, 1500.25)]);
        await ts.append(item(id, 2999.5));
        await ts.append([item(id, 7000.001), item(id, 7000.002)]);
        await ts.append(item(id, 123456.789));
        expect(positions(await ts.getItems(id))).toEqual(ps);
        expect(positions(await ts.getItems(id, { descending: true }))).toEqual([...ps].reverse());
        expect(positions(await ts.getItems(id, { gt: 1000, lt: 123456.789 }))).toEqual([
          1500.25, 2999.5, 7000.001, 7000.002,
        ]);
        expect(positions(await ts.getItems(id, { lte: 7000.001, descending: true, limit: 3 }))).toEqual([
          7000.001, 2999.5, 1500.25,
        ]);
        expect(positions(await ts.getItems(id, { gte: 1000, limit: 2 }))).toEqual([1000, 1500.25]);
        expect((await ts.getItem(id, 2999.5)).position).toBe(2999.5);
      });

      it('a batch with a taken timestamp writes nothing', async () => {
        const id = randomUUID();
        await ts.append([item(id, 100.5), item(id, 200.5)]);
        const error = await ts
          .append([item(id, 150), item(id, 200.5), item(id, 250)])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect(error).toMatchObject({ position: 200.5 });
        expect(positions(await ts.getItems(id))).toEqual([100.5, 200.5]);
      });

      it('concurrent writers of the same timestamp: exactly one wins', async () => {
        const id = randomUUID();
        const outcomes = await Promise.allSettled(
          range(0, 8).map((w) => ts.append(item(id, 5000.5, `{"w":${w}}`))),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        expect(await ts.getItems(id)).toHaveLength(1);
      });

      it('rejects a batch that straddles a time bucket, writing nothing', async () => {
        const id = randomUUID();
        const error = await ts.append([item(id, 1999.5), item(id, 2000.5)]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).field).toBe('position');
        expect((error as Error).message).toContain('one bucket of 1000 ms');
        expect(await ts.getItems(id)).toEqual([]);
      });
    });

    describe('what a strategy remembers stays true under writers in other processes', () => {
      // Each strategy instance stands for a process: it caches what it learnt about buckets, the others
      // keep writing. Every read must still see every committed item.
      const fresh = () => new CassandraActiveRecordStrategy({ table: versions, datastore });
      const sameAs = async (
        reader: CassandraActiveRecordStrategy,
        id: string,
        ref: InMemoryActiveRecordStrategy,
      ) => {
        const last = (await ref.getItems(id)).length;
        const queries: ItemQuery[] = [
          {},
          { descending: true, limit: 1 },
          { gte: Math.max(0, last - 3) },
          { gte: last - 1, limit: 1 },
          { gt: 2, limit: 5 },
          { lte: last, descending: true, limit: 4 },
          { lt: B + 1, descending: true },
        ];
        for (const q of queries)
          expect({ q, got: positions(await reader.getItems(id, q)) }).toEqual({
            q,
            got: positions(await ref.getItems(id, q)),
          });
        if (last > 0) expect((await reader.getItem(id, last - 1)).position).toBe(last - 1);
      };

      it('a reader that knows the frozen buckets sees appends made by another process across boundaries', async () => {
        const id = randomUUID();
        const reader = fresh();
        const writer = fresh();
        const ref = new InMemoryActiveRecordStrategy();
        const append = async (from: number, count: number) => {
          await writer.append(run(id, from, count));
          await ref.append(run(id, from, count));
        };
        await sameAs(reader, id, ref); // nothing yet: the reader must not remember an empty sequence
        await append(0, 6);
        await sameAs(reader, id, ref); // bucket 0, not frozen
        await append(6, 4); // 6..9 spill into bucket 0, which freezes
        await append(10, 3); // bucket 1
        await sameAs(reader, id, ref); // the reader learns bucket 0 is frozen
        await append(13, 1);
        await sameAs(reader, id, ref);
        await append(14, 2); // bucket 1 freezes at 15
        await sameAs(reader, id, ref);
        await append(16, 20); // bucket 2 holds 16..35, spanning three ranges
        await append(36, 1); // bucket 4
        await sameAs(reader, id, ref);
        await append(37, 11); // 37..47: bucket 4 freezes
        await sameAs(reader, id, ref);
        await append(48, 1); // bucket 6
        await sameAs(reader, id, ref);
        // A cold reader, and the writer itself (which learnt from its own appends), agree too.
        await sameAs(fresh(), id, ref);
        await sameAs(writer, id, ref);
      }, 60_000);

      it('a reader racing a writer never misses an item below one it returns', async () => {
        const id = randomUUID();
        const writer = fresh();
        const reader = fresh();
        let written = 0;
        const writing = (async () => {
          for (const size of [3, 5, 1, 9, 2, 8, 1, 1, 14, 4, 7, 1, 3, 12, 2]) {
            await writer.append(run(id, written, size));
            written += size;
          }
        })();
        let done = false;
        void writing.finally(() => (done = true));
        while (!done) {
          const before = written;
          const up = positions(await reader.getItems(id));
          expect(up).toEqual(range(0, up.length));
          expect(up.length).toBeGreaterThanOrEqual(before);
          const [top] = await reader.getItems(id, { descending: true, limit: 1 });
          if (top !== undefined) expect(top.position).toBeGreaterThanOrEqual(before - 1);
        }
        await writing;
        expect(positions(await reader.getItems(id))).toEqual(range(0, written));
      }, 60_000);

      it('a snapshot reader that knows a bucket still finds a newer snapshot written elsewhere', async () => {
        const id = randomUUID();
        const reader = new CassandraActiveRecordStrategy({ table: snapshots, datastore });
        const writer = new CassandraActiveRecordStrategy({ table: snapshots, datastore });
        await reader.append(item(id, 3));
        expect(positions(await reader.getItems(id, { descending: true, limit: 1 }))).toEqual([3]);
        await writer.append(item(id, 20)); // a newer bucket, unknown to the reader
        expect(positions(await reader.getItems(id, { descending: true, limit: 1 }))).toEqual([20]);
        await writer.append(item(id, 5)); // an older bucket the reader knows
        expect(positions(await reader.getItems(id, { lte: 19, descending: true, limit: 1 }))).toEqual([5]);
        expect(positions(await reader.getItems(id))).toEqual([3, 5, 20]);
      });

      it('a snapshot reader reading below a version finds newer snapshots written elsewhere, in buckets it has not seen', async () => {
        const id = randomUUID();
        const reader = new CassandraActiveRecordStrategy({ table: snapshots, datastore });
        const writer = new CassandraActiveRecordStrategy({ table: snapshots, datastore });
        const newest = async (q: ItemQuery) =>
          positions(await reader.getItems(id, { descending: true, limit: 1, ...q }));
        expect(await newest({ lte: 30 })).toEqual([]); // nothing yet: nothing may be remembered as empty
        await reader.append(item(id, 3));
        expect(await newest({ lte: 30 })).toEqual([3]);
        await writer.append(item(id, 20)); // bucket 2: between the bound's bucket and the reader's
        expect(await newest({ lte: 30 })).toEqual([20]);
        await writer.append(item(id, 27)); // bucket 3, the bound's own bucket
        expect(await newest({ lte: 30 })).toEqual([27]); // now known to be indexed: read alone
        expect(await newest({ lte: 26 })).toEqual([20]); // the bound's bucket holds only newer ones
        expect(await newest({ lte: 19 })).toEqual([3]); // an empty bucket under the bound
        expect(await newest({ lt: 27 })).toEqual([20]);
        await writer.append(item(id, 29)); // into the bucket the reader reads alone
        expect(await newest({ lte: 30 })).toEqual([29]);
        expect(await newest({ lte: 1000 })).toEqual([29]); // a bound far above every bucket
        expect(positions(await reader.getItems(id, { lte: 28, descending: true }))).toEqual([27, 20, 3]);
        expect(positions(await reader.getItems(id, { lte: 29, gte: 5, descending: true, limit: 3 }))).toEqual(
          [29, 27, 20],
        );
        const cold = new CassandraActiveRecordStrategy({ table: snapshots, datastore });
        expect(positions(await cold.getItems(id, { lte: 30, descending: true, limit: 2 }))).toEqual([29, 27]);
      });
    });

    describe('snapshot table', () => {
      it('allows gaps, finds the newest at or below a version, and refuses a second snapshot of one version', async () => {
        const snaps = new CassandraActiveRecordStrategy({ table: snapshots, datastore });
        const id = randomUUID();
        for (const v of [3, 9, 10, 40, 41]) await snaps.append(item(id, v));
        expect(positions(await snaps.getItems(id))).toEqual([3, 9, 10, 40, 41]);
        expect(positions(await snaps.getItems(id, { lte: 39, descending: true, limit: 1 }))).toEqual([10]);
        expect(positions(await snaps.getItems(id, { lte: 2, descending: true, limit: 1 }))).toEqual([]);
        await expect(snaps.append(item(id, 9))).rejects.toBeInstanceOf(ConcurrencyError);
      });
    });

    describe('what is not supported or not allowed', () => {
      it('refuses a table used with another bucket size than it was created with', async () => {
        const other = new CassandraActiveRecordStrategy({
          table: versions.withBucketSize(16),
          datastore,
        });
        const error = await other.getItems(randomUUID()).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SettingsError);
        expect((error as Error).message).toContain('bucket_size=8');
        const second = new CassandraDatastore({
          settings: datastore.settings,
          tables: [versions.withBucketSize(16)],
        });
        try {
          await second.setupConnection();
          await expect(second.setupTables()).rejects.toBeInstanceOf(SettingsError);
        } finally {
          await second.close();
        }
      });

      it('refuses a table that was never set up, naming setupTables()', async () => {
        const missing = new CassandraActiveRecordStrategy({
          table: versions.withTableName('never_created'),
          datastore,
        });
        await expect(missing.append(item(randomUUID(), 0))).rejects.toThrow(
          /does not exist: call setupTables\(\) on its datastore once, or open the store with \{ createTables: true \}/,
        );
      });

      it('refuses a batch larger than maxBatchBytes, writing nothing', async () => {
        const small = new CassandraActiveRecordStrategy({
          table: versions,
          datastore,
          maxBatchBytes: 1000,
        });
        const id = randomUUID();
        const error = await small.append(run(id, 0, 3, () => 'x'.repeat(400))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect(await store.getItems(id)).toEqual([]);
      });

      it('counts maxBatchBytes in UTF-8 bytes, not characters: 3 x 200 "é" (1,200 bytes) is refused at 1,000, 3 x 300 "x" taken', async () => {
        const small = new CassandraActiveRecordStrategy({ table: versions, datastore, maxBatchBytes: 1000 });
        const id = randomUUID();
        const error = await small.append(run(id, 0, 3, () => 'é'.repeat(200))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        await small.append(run(id, 0, 3, () => 'x'.repeat(300)));
        expect((await store.getItems(id)).length).toBe(3);
      });

      it('stores a 1 MiB item and a batch of 10 of them', async () => {
        const id = randomUUID();
        const big = (p: number) => `${p}:${'é'.repeat(512 * 1024 - 2)}`;
        await store.append(item(id, 0, big(0)));
        await store.append(run(id, 1, 10, big));
        const read = await store.getItems(id);
        expect(read.map((r) => r.data === big(r.position))).toEqual(Array(11).fill(true));
      }, 60_000);
    });

    describe('listSequenceIds', () => {
      it('lists each sequence once, however many buckets it spans', async () => {
        const ids = [randomUUID(), randomUUID()];
        await store.append(run(ids[0]!, 0, 3 * B));
        await store.append(run(ids[0]!, 3 * B, 2 * B));
        await store.append(run(ids[1]!, 0, 1));
        const listed = await store.listSequenceIds();
        for (const id of ids) expect(listed.filter((l) => l === id)).toEqual([id]);
      });
    });
  },
);
