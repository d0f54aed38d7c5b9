/**
 * The strategy keeps a notification log only over a table with a feed (see docs/cassandra.md, "The
 * feed"): over any other table it is an AggregateRecorder only. `pnpm typecheck` compiles this file,
 * and each `@ts-expect-error` is a call the compiler must keep refusing; jest runs the same calls for
 * the run-time refusal JavaScript callers get. No server.
 */
import {
  type AggregateRecorder,
  type ApplicationRecorder,
  NotSupportedError,
  NotificationLogReader,
  ValidationError,
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

  it('without a feed, is an aggregate recorder whose log methods the compiler refuses and which reject at run time', async () => {
    const recorder: AggregateRecorder = store;
    expect(hasNotificationLog(recorder)).toBe(false);
    expect(store.supportsNotifications).toBe(false);
    // @ts-expect-error: no feed, no selectNotifications
    await expect(store.selectNotifications(1, 10)).rejects.toBeInstanceOf(NotSupportedError);
    // @ts-expect-error: no feed, no maxNotificationId
    await expect(store.maxNotificationId()).rejects.toBeInstanceOf(NotSupportedError);
    // @ts-expect-error: not an ApplicationRecorder
    const log: ApplicationRecorder = store;
    void log;
  });

  it('with a feed (integer tables only), is an application recorder', () => {
    const withFeed = new CassandraActiveRecordStrategy({ table: CqlIntegerSequencedItem.withFeed() });
    const log: ApplicationRecorder = withFeed;
    expect(hasNotificationLog(log)).toBe(true);
    const feed: CqlTable<'integer', true> = CqlIntegerSequencedItem.withFeed({ shards: 4 }).withTableName(
      'x',
    );
    expect([feed.feed.shards, feed.feed.logBucketSize, feed.tableName]).toEqual([4, 10_000, 'x']);
    expect(feed.layout).toBe(
      '@es/cassandra kind=integer bucket_size=10000 feed_shards=4 log_bucket_size=10000',
    );
    // @ts-expect-error: timestamp tables keep no feed (their positions have gaps)
    expect(() => CqlTimestampSequencedItem.withFeed()).toThrow(ValidationError);
    expect(() => CqlIntegerSequencedItem.withFeed({ shards: 0 })).toThrow(ValidationError);
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
