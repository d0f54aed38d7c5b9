/**
 * The strategy keeps no notification log yet (see docs/cassandra.md), so it is an AggregateRecorder
 * only: `pnpm typecheck` compiles this file, and each `@ts-expect-error` is a call the compiler must
 * keep refusing; jest runs the same calls for the run-time refusal JavaScript callers get. No server.
 */
import {
  type AggregateRecorder,
  type ApplicationRecorder,
  NotSupportedError,
  NotificationLogReader,
  hasNotificationLog,
} from '@es/core';
import {
  CassandraActiveRecordStrategy,
  CqlIntegerSequencedItem,
  CqlSnapshot,
  CqlTimestampSequencedItem,
  type CqlTable,
} from '../src/index.js';

describe('capabilities of the Cassandra strategy', () => {
  const store = new CassandraActiveRecordStrategy({ table: CqlIntegerSequencedItem });

  it('is an aggregate recorder, without log methods', () => {
    const recorder: AggregateRecorder = store;
    expect(hasNotificationLog(recorder)).toBe(false);
    // @ts-expect-error: no notification log, no selectNotifications
    expect(store.selectNotifications).toBeUndefined();
    // @ts-expect-error: no notification log, no maxNotificationId
    expect(store.maxNotificationId).toBeUndefined();
    // @ts-expect-error: not an ApplicationRecorder
    const log: ApplicationRecorder = store;
    void log;
  });

  it('NotificationLogReader refuses it: the compiler, and NotSupportedError for JavaScript', () => {
    // @ts-expect-error: NotificationLogReader takes only a store with a notification log
    expect(() => new NotificationLogReader(store)).toThrow(NotSupportedError);
  });

  it("takes its table as `table` or as the seed's `activeRecordClass`, and its kind into its type", () => {
    const seedStyle = new CassandraActiveRecordStrategy({ activeRecordClass: CqlSnapshot });
    const kind: 'snapshot' = seedStyle.table.kind;
    expect(kind).toBe('snapshot');
    const timestamps: CqlTable<'timestamp'> =
      CqlTimestampSequencedItem.withTableName('ts').withBucketSize(60_000);
    expect(new CassandraActiveRecordStrategy({ table: timestamps }).positionKind).toBe('timestamp');
    // @ts-expect-error: a table's kind does not change with its name
    const wrong: CqlTable<'integer'> = CqlSnapshot.withTableName('x');
    expect(wrong.kind).toBe('snapshot');
  });

  it('table definitions are immutable values', () => {
    const renamed = CqlIntegerSequencedItem.withTableName('renamed');
    expect([CqlIntegerSequencedItem.tableName, renamed.tableName]).toEqual([
      'integer_sequenced_items',
      'renamed',
    ]);
    expect(Object.isFrozen(CqlIntegerSequencedItem)).toBe(true);
    expect(() => {
      (CqlIntegerSequencedItem as { tableName: string }).tableName = 'changed';
    }).toThrow(TypeError);
  });
});
