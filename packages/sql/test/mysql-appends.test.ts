import { randomUUID } from 'node:crypto';
import { SequencedItem, ValidationError } from '@es/core';
import { sql } from 'kysely';
import { SqlActiveRecordStrategy, SqlIntegerSequencedItem, SqlSnapshot } from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

/**
 * MySQL's append statements: one item goes as plain parameters, a batch as one JSON parameter. (No
 * group commit on MySQL: see SqlConnection.insertBatches.)
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
  },
  { only: ['mysql'] },
);
