import { randomUUID } from 'node:crypto';
import { ConcurrencyError, SequencedItem, ValidationError } from '@es/core';
import { sql } from 'kysely';
import {
  SqlActiveRecordStrategy,
  SqlIntegerSequencedItem,
  SqlSnapshot,
  type SqlItemsTable,
} from '../src/index.js';
import type { SqlConnection } from '../src/connection.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

/** The group-commit append, until SqlConnection names it for every dialect. */
type GroupAppend = (
  table: SqlItemsTable,
  batches: readonly (readonly SequencedItem[])[],
) => Promise<(ConcurrencyError | undefined)[]>;

/**
 * MySQL's append statements: one item goes as plain parameters, a batch as one JSON parameter, and a
 * group of batches as one transaction where each batch keeps its own check and outcome.
 */
describeEachDialect(
  'MySQL appends',
  (dialect) => {
    const events = SqlIntegerSequencedItem.withTableName(uniqueName('appends'));
    const snapshots = SqlSnapshot.withTableName(uniqueName('appends_snapshots'));
    const datastore = useDatastore(dialect, [events, snapshots]);
    const item = (id: string, position: number, data = `{"p":${position}}`) =>
      new SequencedItem(id, position, 'es-test.Appended', data);
    const items = (id: string, from: number, count: number) =>
      Array.from({ length: count }, (_, k) => item(id, from + k));
    const insertBatches = (table: SqlItemsTable, batches: readonly (readonly SequencedItem[])[]) =>
      datastore().use((connection: SqlConnection & { insertBatches?: GroupAppend }) =>
        connection.insertBatches!(table, batches),
      );
    /** The rows of these sequences in notification-log order. */
    const log = async (ids: readonly string[]) =>
      (
        await sql<{
          id: number;
          sequence_id: Buffer;
          position: number;
        }>`select id, sequence_id, position from ${sql.table(events.tableName)} where sequence_id in (${sql.join(ids)}) order by id`.execute(
          datastore().db,
        )
      ).rows.map((r) => ({ id: Number(r.id), at: [r.sequence_id.toString(), Number(r.position)] }));

    it('one item at a time stores long, multi-byte and awkward data verbatim', async () => {
      const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table: events });
      const id = randomUUID();
      const samples = [
        '0123456789abcdef€😀'.repeat(20_000), // longer than 65,535 bytes: no cut at a 16-bit length
        `'single' "double" \\ backslash; -- ? $1`,
        '',
        '\u0001\u001f\u007f\r\n\t\u2028\ufeff',
      ];
      for (const [position, data] of samples.entries()) await strategy.append(item(id, position, data));
      await strategy.append(samples.map((data, k) => item(id, samples.length + k, data)));
      expect((await strategy.getItems(id)).map((i) => i.data)).toEqual([...samples, ...samples]);
    });

    it('batches of every statement size store their items verbatim, in order', async () => {
      const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table: events });
      const long = '€😀0123456789abcdef'.repeat(5_000); // 110 KB, in a row after a short one
      // 2 and 4 fill their statement; 3 and 5 leave null slots; 1,025 goes as one JSON parameter.
      for (const size of [2, 3, 4, 5, 1_025]) {
        const id = randomUUID();
        const batch = items(id, 0, size).map((i, k) => (k === 1 ? item(id, k, long) : i));
        await strategy.append(batch);
        expect(await strategy.getItems(id)).toEqual(batch);
        const rows = await log([id]);
        expect(rows.map((r) => r.at[1])).toEqual(batch.map((i) => i.position));
      }
    });

    it("an append larger than the server's max_allowed_packet is a ValidationError and writes nothing", async () => {
      // Items up to 64 MB, so that the packet check, not the item check, refuses them.
      const strategy = new SqlActiveRecordStrategy({
        datastore: datastore(),
        table: events,
        maxItemBytes: 64 * 1024 * 1024,
      });
      const { rows } = await sql<{ max: number }>`select @@max_allowed_packet as max`.execute(datastore().db);
      const max = Number(rows[0]!.max);
      const id = randomUUID();
      await expect(strategy.append(item(id, 0, 'x'.repeat(max)))).rejects.toThrow(/max_allowed_packet/);
      const half = 'y'.repeat(Math.ceil(max / 2));
      const batch = strategy.append([item(id, 0, half), item(id, 1, half)]);
      await expect(batch).rejects.toBeInstanceOf(ValidationError);
      await expect(batch).rejects.toThrow(/max_allowed_packet/);
      await strategy.append(item(id, 0));
      expect((await strategy.getItems(id)).map((i) => i.position)).toEqual([0]);
    });

    it('a group stores each batch that continues its sequence and refuses each that does not', async () => {
      const [a, b, c, d, e] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table: events });
      await strategy.append(items(a, 0, 2));
      await strategy.append(items(b, 0, 1));
      const outcomes = await insertBatches(events, [
        items(a, 2, 2), // continues a
        items(b, 0, 2), // position 0 of b is taken
        items(c, 0, 3), // a new sequence
        items(d, 5, 1), // would leave a gap in d
        [item(e, 0)],
      ]);
      expect(outcomes.map((o) => o === undefined || ConcurrencyError.isInstance(o))).toEqual([
        true,
        true,
        true,
        true,
        true,
      ]);
      expect(outcomes.map((o) => o?.sequenceId)).toEqual([undefined, b, undefined, d, undefined]);
      expect((await strategy.getItems(a)).map((i) => i.position)).toEqual([0, 1, 2, 3]);
      expect((await strategy.getItems(b)).map((i) => i.position)).toEqual([0]);
      expect(await strategy.getItems(d)).toEqual([]);
      // The stored batches' rows follow the earlier appends in the log, in the group's order.
      const rows = await log([a, b, c, d, e]);
      expect(rows.map((r) => r.at)).toEqual([
        [a, 0],
        [a, 1],
        [b, 0],
        [a, 2],
        [a, 3],
        [c, 0],
        [c, 1],
        [c, 2],
        [e, 0],
      ]);
      expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((x, y) => x - y));
    });

    it('a duplicate key refuses only its own batch of the group (tables without the check)', async () => {
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table: snapshots });
      await strategy.append(item(b, 3, '{"kept":true}'));
      const outcomes = await insertBatches(snapshots, [[item(a, 1)], [item(b, 3)], [item(c, 7)]]);
      expect(outcomes[0]).toBeUndefined();
      expect(ConcurrencyError.isInstance(outcomes[1])).toBe(true);
      expect(outcomes[1]!.message).toMatch(/taken/);
      expect(outcomes[2]).toBeUndefined();
      expect((await strategy.getItems(a)).map((i) => i.position)).toEqual([1]);
      expect((await strategy.getItems(b)).map((i) => i.data)).toEqual(['{"kept":true}']);
      expect((await strategy.getItems(c)).map((i) => i.position)).toEqual([7]);
    });

    it('groups racing on the same sequences store each position once, with ids in log order', async () => {
      const ids = Array.from({ length: 4 }, () => randomUUID());
      // Eight groups of four batches at once, each group appending position 0 of every sequence: each
      // position is stored by exactly one group, and every other group gets that batch's ConcurrencyError.
      const groups = await Promise.all(
        Array.from({ length: 8 }, (_, g) =>
          insertBatches(
            events,
            ids.map((id) => [item(id, 0, `{"group":${g}}`)]),
          ),
        ),
      );
      for (const [k] of ids.entries()) {
        const stored = groups.filter((outcomes) => outcomes[k] === undefined);
        expect(stored).toHaveLength(1);
        expect(groups.filter((outcomes) => ConcurrencyError.isInstance(outcomes[k]))).toHaveLength(7);
      }
      expect((await log(ids)).map((r) => r.at[1])).toEqual([0, 0, 0, 0]);
    });
  },
  { only: ['mysql'] },
);
