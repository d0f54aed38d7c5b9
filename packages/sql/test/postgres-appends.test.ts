import { randomUUID } from 'node:crypto';
import { ConcurrencyError, SequencedItem } from '@es/core';
import { sql } from 'kysely';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSnapshot,
  SqlTimestampSequencedItem,
} from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

/**
 * PostgreSQL's append statements: one item goes as plain parameters ($1 to $4), a batch as arrays
 * (`unnest`), each with the table's advisory lock (tables with a log) and the contiguity check (integer
 * sequences) in the statement.
 */
describeEachDialect(
  'PostgreSQL appends',
  (dialect) => {
    const events = SqlIntegerSequencedItem.withTableName(uniqueName('pg_appends'));
    const timestamps = SqlTimestampSequencedItem.withTableName(uniqueName('pg_appends_ts'));
    const snapshots = SqlSnapshot.withTableName(uniqueName('pg_appends_snapshots'));
    const datastore = useDatastore(dialect, [events, timestamps, snapshots]);
    const item = (id: string, position: number, data = `{"p":${position}}`) =>
      new SequencedItem(id, position, 'es-test.Appended', data);

    it('one item is its own plain-parameter statement, prepared once per connection; a batch uses arrays', async () => {
      const one = await SqlDatastore.open({
        settings: dialect.settings({ poolSize: 1 }),
        tables: [events, timestamps, snapshots],
      });
      try {
        const appends = 7; // more than 5 runs: past PostgreSQL's custom plans
        for (const table of [events, timestamps, snapshots]) {
          const strategy = new SqlActiveRecordStrategy({ datastore: one, table });
          const id = randomUUID();
          const position = (k: number) => (table === timestamps ? 1_700_000_000.25 + k : k);
          for (let k = 0; k < appends; k++) await strategy.append(item(id, position(k)));
          await strategy.append([item(id, position(appends)), item(id, position(appends + 1))]);
          expect((await strategy.getItems(id)).map((i) => i.position)).toEqual(
            Array.from({ length: appends + 2 }, (_, k) => position(k)),
          );
        }
        // The one connection's prepared statements: per table, the single item's and the batch's.
        const { rows } = await sql<{
          statement: string;
          runs: string;
        }>`select statement, generic_plans + custom_plans as runs from pg_prepared_statements where statement like 'with ordering as%' or statement like 'insert into%'`.execute(
          one.db,
        );
        for (const table of [events, timestamps, snapshots]) {
          const mine = rows.filter((r) => r.statement.includes(`"${table.tableName}"`));
          const single = mine.filter((r) => !r.statement.includes('unnest'));
          const batch = mine.filter((r) => r.statement.includes('unnest'));
          expect([
            table.tableName,
            single.map((r) => Number(r.runs)),
            batch.map((r) => Number(r.runs)),
          ]).toEqual([table.tableName, [appends], [1]]);
          // The same guarantees as the batch's: the lock where there is a log, the check on integer sequences.
          expect([
            single[0]!.statement.includes('pg_advisory_xact_lock'),
            single[0]!.statement.includes('coalesce(max(position), -1)'),
          ]).toEqual([table.notificationLog, table.kind === 'integer']);
        }
      } finally {
        await one.close();
      }
    });

    it('one item at a time stores awkward data verbatim', async () => {
      const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table: events });
      const id = randomUUID();
      const samples = [
        '0123456789abcdef€😀'.repeat(20_000),
        `'single' "double" \\ backslash; -- ? $1 {"a":[1,2]} {} NULL`,
        '',
        '\u0001\u001f\u007f\r\n\t\u2028\ufeff',
      ];
      for (const [position, data] of samples.entries()) await strategy.append(item(id, position, data));
      expect((await strategy.getItems(id)).map((i) => i.data)).toEqual(samples);
    });

    it('one item that leaves a gap, repeats a position or loses a race is a ConcurrencyError and writes nothing', async () => {
      const strategy = new SqlActiveRecordStrategy({ datastore: datastore(), table: events });
      const id = randomUUID();
      await expect(strategy.append(item(id, 1))).rejects.toBeInstanceOf(ConcurrencyError);
      await strategy.append(item(id, 0));
      await expect(strategy.append(item(id, 0))).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(strategy.append(item(id, 2))).rejects.toBeInstanceOf(ConcurrencyError);
      expect((await strategy.getItems(id)).map((i) => i.position)).toEqual([0]);
      // Writers on connections of their own (no group commit between them) race for the next position:
      // one stores it, the others are refused, whether by the check or by the primary key.
      const writers = await Promise.all(
        Array.from({ length: 4 }, () =>
          SqlDatastore.open({ settings: dialect.settings({ poolSize: 1 }), tables: [events] }),
        ),
      );
      try {
        const outcomes = await Promise.allSettled(
          writers.map((w, k) =>
            new SqlActiveRecordStrategy({ datastore: w, table: events }).append(item(id, 1, `{"w":${k}}`)),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes.filter((o) => o.status === 'rejected'))
          expect((o as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
      } finally {
        await Promise.all(writers.map((w) => w.close()));
      }
      expect((await strategy.getItems(id)).map((i) => i.position)).toEqual([0, 1]);
    });
  },
  { only: ['postgres'] },
);
