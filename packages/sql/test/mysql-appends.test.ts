import { createHash, randomUUID } from 'node:crypto';
import { SequencedItem, ValidationError } from '@es/core';
import { sql } from 'kysely';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSnapshot } from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';
import { userClient } from './faults.js';

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

    // mysql2's `execute` prepares a statement once per connection and reuses it. Were MariaDB to size
    // the statement's rows (a derived or temporary table: the contiguity check reads the items table)
    // from the parameters of its first execution, a later, longer value would be cut. So each
    // statement runs first with short values, then, on the same (only) connection, with long ones.
    it.each([
      ['a pool of your own', 'user'],
      ["the datastore's own pool", 'own'],
    ] as const)(
      'with one pooled connection (%s), values longer than the first execution had are stored verbatim',
      async (_, pool) => {
        const own = pool === 'user' ? userClient(dialect, { poolSize: 1 }) : undefined;
        const one =
          own === undefined
            ? await SqlDatastore.open({
                settings: dialect.settings({ poolSize: 1 }),
                tables: [events, snapshots],
              })
            : await SqlDatastore.open({ client: own.client, tables: [events, snapshots] });
        try {
          const short = '{"a":1}';
          const longData = '€😀0123456789abcdef'.repeat(4_000); // 92,000 bytes: past 65,535
          const midData = 'é'.repeat(150); // 300 bytes: past 255
          // 255 UTF-16 code units (the topic limit), 253 characters (the column holds 255), 659 bytes.
          const longTopic = 'é'.repeat(100) + '€'.repeat(150) + '😀'.repeat(2) + 'x';
          expect([longTopic.length, [...longTopic].length, Buffer.byteLength(longTopic)]).toEqual([
            255, 253, 659,
          ]);
          const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
          /** Each item as its position, its topic's and data's byte lengths and a digest of both. */
          const summary = (list: readonly SequencedItem[]) =>
            list.map((i) => [
              i.position,
              Buffer.byteLength(i.topic),
              Buffer.byteLength(i.data),
              digest(`${i.topic}\u0000${i.data}`),
            ]);
          /** `count` short items of a new sequence, the one at `long.at` (if any) given a long topic or data. */
          const batch = (count: number, long?: { at: number; topic?: string; data?: string }) => {
            const id = randomUUID();
            return Array.from(
              { length: count },
              (_, k) =>
                new SequencedItem(
                  id,
                  k,
                  k === long?.at && long.topic !== undefined ? long.topic : 'es-test.Appended',
                  k === long?.at && long.data !== undefined ? long.data : short,
                ),
            );
          };
          // [the first execution's batch size, a later one's and its long slot]: every statement size
          // (1; 2, 4 and 8 items), the long value in its last row; a batch of 3 then 4 (the 4th slot
          // was null at first) and 4 then 3; 2 items long in the second slot only.
          const cases: [first: number, later: number, at: number][] = [
            [1, 1, 0],
            [2, 2, 1],
            [3, 4, 3],
            [4, 3, 2],
            [8, 8, 7],
            [5, 8, 6],
          ];
          /** The one connection's count of statements prepared and of their executions. */
          const statements = async () => {
            const { rows } = await sql<{
              Variable_name: string;
              Value: string;
            }>`show session status where variable_name in ('Com_stmt_prepare', 'Com_stmt_execute')`.execute(
              one.db,
            );
            const value = (name: string) => Number(rows.find((r) => r.Variable_name === name)!.Value);
            return { prepared: value('Com_stmt_prepare'), executed: value('Com_stmt_execute') };
          };
          const before = await statements();
          for (const table of [events, snapshots]) {
            const strategy = new SqlActiveRecordStrategy({ datastore: one, table });
            const check = new SqlActiveRecordStrategy({ datastore: datastore(), table });
            for (const [first, later, at] of cases) {
              const appended = [
                batch(first),
                batch(later, { at, data: midData }),
                batch(later, { at, data: longData }),
                batch(later, { at, topic: longTopic }),
                batch(later, { at, topic: longTopic, data: longData }),
                batch(first),
              ];
              for (const items of appended) {
                await strategy.append(items.length === 1 ? items[0]! : items);
                const stored = await check.getItems(items[0]!.sequenceId);
                expect([table.kind, first, later, summary(stored)]).toEqual([
                  table.kind,
                  first,
                  later,
                  summary(items),
                ]);
                expect(stored.every((s, k) => s.topic === items[k]!.topic && s.data === items[k]!.data)).toBe(
                  true,
                );
              }
            }
          }
          // The premise: per table, the statements of 1, 2, 4 and 8 items, each prepared once on the
          // connection and run again (36 appends per table).
          const after = await statements();
          expect({
            prepared: after.prepared - before.prepared,
            executed: after.executed - before.executed,
          }).toEqual({ prepared: 8, executed: 72 });
        } finally {
          await one.close();
          await own?.end();
        }
      },
    );

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
