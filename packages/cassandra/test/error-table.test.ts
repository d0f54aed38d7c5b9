import { describeIfAvailable } from '@es/testing/conformance';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SequencedItem } from '@es/core';
import { CassandraActiveRecordStrategy, CassandraDatastore, CqlIntegerSequencedItem } from '../src/index.js';
import { cassandraAvailable, testSettings } from './helpers.js';

/** docs/errors.md's `cassandra-` rows (@es/sql's error-table test checks the others). */
function cassandraRows(): { key: string; error: string; message: string }[] {
  const text = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
  const code = (cell: string) => cell.trim().replace(/^(`+) ?([\s\S]*?) ?\1$/, '$2');
  return text
    .slice(0, text.indexOf('## The other errors'))
    .split('\n')
    .filter((line) => line.startsWith('| cassandra-'))
    .map((line) => {
      const cells = line.replace(/^\| | \|$/g, '').split(/ +\| /);
      return {
        key: cells[0]!.trim(),
        error: code(cells[cells.length - 2]!),
        message: code(cells[cells.length - 1]!),
      };
    });
}

describeIfAvailable(cassandraAvailable, 'docs/errors.md: the cassandra- rows', () => {
  const rows = cassandraRows();

  it('has a test for every row', () => {
    expect(rows.map((row) => row.key)).toEqual(['cassandra-missing-tables']);
  });

  it('cassandra-missing-tables: a write on a table that was never created', async () => {
    const row = rows[0]!;
    // The keyspace is never created either: the check reads the schema tables, not the keyspace.
    await using datastore = new CassandraDatastore({ settings: testSettings({ keyspace: 'es_errors_doc' }) });
    await datastore.setupConnection();
    const strategy = new CassandraActiveRecordStrategy({
      datastore,
      table: CqlIntegerSequencedItem.withTableName('errors_doc_missing'),
    });
    const error = await strategy
      .append(new SequencedItem('5b8f2c1e-9d3a-4e7b-8c6f-1a2b3c4d5e6f', 0, 'errors.Note.Created', '{}'))
      .then(
        () => 'nothing was thrown',
        (e: unknown) => e,
      );
    expect({ error: (error as Error).name, message: (error as Error).message }).toEqual({
      error: row.error,
      message: row.message,
    });
  });
});
