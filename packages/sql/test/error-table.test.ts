import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Application,
  EsError,
  SequencedItem,
  TimestampedVersionedEntity,
  VersionedEntityEvent,
  memoryStore,
  registerEntity,
  registerTopic,
} from '@es/core';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '../src/index.js';
import { SqliteConnection } from '../src/sqlite.js';
import { describeEachDialect } from './dialects.js';

/**
 * docs/errors.md's table of common mistakes, read here: each row is made to happen and its error's
 * class and message are compared with the row, so the table cannot drift from the code. The rows whose
 * key starts with `cassandra-` are checked by @es/cassandra's test of the same name.
 */
type Row = { key: string; error: string; message: string };

function readTable(): Row[] {
  const text = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
  const section = text.slice(0, text.indexOf('## The other errors'));
  const code = (cell: string) => cell.trim().replace(/^(`+) ?([\s\S]*?) ?\1$/, '$2');
  return section
    .split('\n')
    .filter((line) => /^\| [a-z][a-z-]* +\|/.test(line) && !line.startsWith('| key '))
    .map((line) => {
      const cells = line.replace(/^\| | \|$/g, '').split(/ +\| /);
      return {
        key: cells[0]!.trim(),
        error: code(cells[cells.length - 2]!),
        message: code(cells[cells.length - 1]!),
      };
    });
}

const rows = readTable().filter((row) => !row.key.startsWith('cassandra-'));

class Note extends TimestampedVersionedEntity<{ text: string }> {}
registerEntity('errors.Note', Note);

/** Makes each mistake and returns what it threw (or rejected with). */
const mistakes: Record<string, () => Promise<unknown>> = {
  'native-build': async () => {
    // What better-sqlite3 throws when its native module was never compiled (the `bindings` package).
    const Unbuilt = function () {
      throw new Error(
        'Could not locate the bindings file. Tried:\n → /app/node_modules/better-sqlite3/build/better_sqlite3.node',
      );
    };
    SqliteConnection.open(new SqlSettings('sqlite::memory:'), Unbuilt as never);
  },
  'get-undefined': async () => {
    await using app = await Application.open({ store: memoryStore() });
    await app.repository(Note).get(undefined as unknown as string);
  },
  'get-not-a-uuid': async () => {
    await using app = await Application.open({ store: memoryStore() });
    await app.get(Note, 'nope');
  },
  'never-stored': async () => {
    await using app = await Application.open({ store: memoryStore() });
    await app.get(Note, '5b8f2c1e-9d3a-4e7b-8c6f-1a2b3c4d5e6f');
  },
  'duplicate-topic': async () => {
    class AnotherClass extends VersionedEntityEvent {}
    registerTopic('errors.Note.Created', AnotherClass);
  },
  'unknown-topic': async () => {
    const store = memoryStore();
    const id = '0b9e5c0a-3f1d-4c6e-9a8b-7d6c5b4a3f2e';
    await store.events.append(
      new SequencedItem(id, 0, 'errors.Unregistered.Happened', JSON.stringify({ originatorId: id })),
    );
    await using app = await Application.open({ store });
    await app.get(Note, id);
  },
  'save-not-an-aggregate': async () => {
    await using app = await Application.open({ store: memoryStore() });
    await app.save(app.create(Note, { text: 'a' }) as never);
  },
  'bad-store-url': async () => {
    await Application.open({ store: 'postgre://db' });
  },
  'use-after-close': async () => {
    const app = await Application.open({ store: memoryStore() });
    await app.close();
    await app.get(Note, '5b8f2c1e-9d3a-4e7b-8c6f-1a2b3c4d5e6f');
  },
  'tls-bad-mode': async () => {
    new SqlSettings('postgres://app@db.example.com/shop?sslmode=sometimes');
  },
  'datastore-after-close': async () => {
    const datastore = await SqlDatastore.open({ settings: new SqlSettings('sqlite::memory:') });
    await datastore.close();
    await datastore.setupTables();
  },
};

async function thrown(make: () => Promise<unknown>): Promise<unknown> {
  try {
    await make();
  } catch (error) {
    return error;
  }
  return 'nothing was thrown';
}

describe('docs/errors.md, the table of common mistakes', () => {
  it('has a test for every row, and a row for every test', () => {
    expect(rows.map((row) => row.key).sort()).toEqual([...Object.keys(mistakes), 'missing-tables'].sort());
  });

  it.each(rows.filter((row) => row.key !== 'missing-tables'))('$key: $error', async (row) => {
    const error = await thrown(mistakes[row.key]!);
    expect(error).toBeInstanceOf(EsError);
    expect({ error: (error as Error).name, message: (error as Error).message }).toEqual({
      error: row.error,
      message: row.message,
    });
  });
});

describeEachDialect('docs/errors.md: missing-tables', (dialect) => {
  const row = rows.find((r) => r.key === 'missing-tables')!;
  const table = SqlIntegerSequencedItem.withTableName('errors_doc_missing');

  it.each(['a write', 'a read'])('%s on a table that was never created', async (operation) => {
    await using datastore = new SqlDatastore({ settings: dialect.settings(), tables: [table] });
    const strategy = new SqlActiveRecordStrategy({ datastore, table });
    const id = '5b8f2c1e-9d3a-4e7b-8c6f-1a2b3c4d5e6f';
    const error = await thrown(() =>
      operation === 'a write'
        ? strategy.append(new SequencedItem(id, 0, 'errors.Note.Created', '{}'))
        : strategy.getItems(id),
    );
    expect({ error: (error as Error).name, message: (error as Error).message }).toEqual({
      error: row.error,
      message: row.message,
    });
  });
});
