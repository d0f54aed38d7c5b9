import { randomBytes } from 'node:crypto';
import { SequencedItem, ValidationError } from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlIntegerSequencedItem,
  SqlSnapshot,
  SqlTimestampSequencedItem,
  SqlTracking,
} from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

/** Sequence ids an attacker (or an unlucky user) might choose; each must stay a sequence of its own. */
const HOSTILE_IDS = [
  "'; DROP TABLE events; --",
  "robert'); DELETE FROM \"events\" WHERE ('1'='1",
  '" OR "1"="1',
  '` OR 1=1 #',
  'a\\',
  "a\\'",
  '\\x27; select pg_sleep(10); --',
  '/* comment */ id',
  '-- comment',
  '%',
  '_',
  '$1',
  '?',
  ':name',
  'abc',
  'abc ', // trailing space: MySQL's PAD SPACE collations would call it equal to 'abc'
  ' abc',
  'ABC', // case
  'é', // composed
  'e\u0301', // decomposed: the same text to a reader, not the same bytes
  '日本語 עברית 😀 👩‍👩‍👧',
  '\t\r\n\u2028',
  'x'.repeat(255),
  '😀'.repeat(127), // 254 UTF-16 units, 508 UTF-8 bytes
];

const HOSTILE_TOPICS = [
  "topic'; DROP TABLE events; --",
  'topic\\',
  'tópic 😀',
  '/*',
  '--',
  '"quoted"',
  't'.repeat(255),
];

const HOSTILE_DATA = [
  "'); DROP TABLE events; --",
  '\\\\\'\\"\\0 not a NUL, a backslash and a zero',
  '{"json": "with \\"escapes\\" and \\u0000 as text"}',
  '/* open comment',
  '-- line comment\n; next statement',
  '$$ dollar $$ quoting $tag$',
  '',
  '   ',
  'ünïcødé 😀 \u{10FFFF}',
  randomBytes(48).toString('base64'),
  '0123456789abcdef€😀\\\'"'.repeat(20_000), // ~500 KB
];

describeEachDialect('hostile input', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('Hostile')); // mixed case: quoted the same everywhere
  const datastore = useDatastore(dialect, [table]);
  const strategy = () =>
    new SqlActiveRecordStrategy({ datastore: datastore(), table, sequenceIdKind: 'string' });
  const rowCount = async () =>
    Number(
      (
        await datastore()
          .db.selectFrom(table.tableName)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('stores hostile sequence ids, topics and data verbatim, and they never change the SQL that runs', async () => {
    const s = strategy();
    const expected = new Map<string, SequencedItem[]>();
    for (const [i, id] of HOSTILE_IDS.entries()) {
      const items = HOSTILE_DATA.map(
        (data, p) => new SequencedItem(id, p, HOSTILE_TOPICS[(i + p) % HOSTILE_TOPICS.length]!, data),
      );
      await s.append(items);
      expected.set(id, items);
    }

    // Exactly the rows appended: no statement was cut short, none added, no table dropped.
    expect(await rowCount()).toBe(HOSTILE_IDS.length * HOSTILE_DATA.length);
    for (const [id, items] of expected) {
      expect(await s.getItems(id)).toStrictEqual(items);
      expect(await s.getItem(id, 3)).toStrictEqual(items[3]);
    }
    // Ids that differ only by a trailing space, case or normalisation stay apart.
    expect([...(await s.listSequenceIds())].sort()).toEqual([...HOSTILE_IDS].sort());

    const notifications = await s.selectNotifications(1, 10_000);
    expect(
      notifications.map(
        ({ sequenceId, position, topic, data }) => new SequencedItem(sequenceId, position, topic, data),
      ),
    ).toStrictEqual([...expected.values()].flat());
  });

  it('a hostile id is also just a value in a conflict and in queries', async () => {
    const s = strategy();
    const id = `${uniqueName('x')}'; DELETE FROM ${table.tableName}; --`;
    await s.append(new SequencedItem(id, 0, 't', 'first'));
    await expect(s.append(new SequencedItem(id, 0, 't', "second'); --"))).rejects.toMatchObject({
      name: 'ConcurrencyError',
      sequenceId: id,
      position: 0,
    });
    expect(await s.getItems(id, { gte: 0, lte: 0, descending: true, limit: 1 })).toStrictEqual([
      new SequencedItem(id, 0, 't', 'first'),
    ]);
    expect(await s.getItems(`${id}x`)).toEqual([]);
    expect(await rowCount()).toBe(HOSTILE_IDS.length * HOSTILE_DATA.length + 1);
  });

  it('NUL in an id, topic or data is rejected by validation, and nothing is written', async () => {
    const s = strategy();
    const before = await rowCount();
    for (const item of [
      new SequencedItem('nul\0id', 0, 't', 'd'),
      new SequencedItem('ok', 0, 'nul\0topic', 'd'),
      new SequencedItem('ok', 0, 't', 'nul\0data'),
    ]) {
      await expect(s.append(item)).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(s.getItems('nul\0id')).rejects.toBeInstanceOf(ValidationError);
    expect(await rowCount()).toBe(before);
  });
});

describe('table names', () => {
  it.each([
    'events; DROP TABLE x',
    'events--',
    '"events"',
    '`events`',
    'my-events',
    'my events',
    '1events',
    'évents',
    '',
    'x'.repeat(49),
  ])('rejects %j: only plain identifiers', (name) => {
    for (const Table of [SqlIntegerSequencedItem, SqlTimestampSequencedItem, SqlSnapshot, SqlTracking]) {
      expect(() => Table.withTableName(name)).toThrow(ValidationError);
    }
  });

  it('accepts plain identifiers, with defaults', () => {
    expect(SqlIntegerSequencedItem.tableName).toBe('integer_sequenced_items');
    expect(SqlTimestampSequencedItem.tableName).toBe('timestamp_sequenced_items');
    expect(SqlSnapshot.tableName).toBe('snapshots');
    expect(SqlTracking.tableName).toBe('tracking');
    expect(SqlIntegerSequencedItem.withTableName('Events_2024').tableName).toBe('Events_2024');
  });
});
