/**
 * The table decides whether a strategy keeps a notification log, and the compiler knows it: over an
 * integer or timestamp table the strategy is an ApplicationRecorder, over a snapshots table it is not.
 * `pnpm typecheck` compiles this file, so each `@ts-expect-error` is a call the compiler must keep
 * refusing; jest runs the same calls for the run-time refusal JavaScript callers get. SQLite in memory.
 */
import { randomUUID } from 'node:crypto';
import {
  type AggregateRecorder,
  type ApplicationRecorder,
  NotSupportedError,
  NotificationLogReader,
  SequencedItem,
  ValidationError,
  hasNotificationLog,
} from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  type SqlItemsTable,
  SqlSnapshot,
  SqlTimestampSequencedItem,
  SqlTracking,
} from '../src/index.js';

describe('what a SQL strategy offers follows its table', () => {
  let memory: SqlDatastore;
  beforeAll(async () => {
    memory = await SqlDatastore.open({ tables: [SqlIntegerSequencedItem, SqlSnapshot] });
  });
  afterAll(() => memory.close());

  it('over an integer or timestamp table: an ApplicationRecorder', async () => {
    const events = new SqlActiveRecordStrategy({ datastore: memory, table: SqlIntegerSequencedItem });
    const timestamps = new SqlActiveRecordStrategy({ datastore: memory, table: SqlTimestampSequencedItem });
    const logs: ApplicationRecorder[] = [events, timestamps];
    expect(logs.map((s) => hasNotificationLog(s))).toEqual([true, true]);
    await events.append(new SequencedItem(randomUUID(), 0, 't', '{}'));
    expect(await new NotificationLogReader(events).maxNotificationId()).toBe(1);
  });

  it('over a snapshots table: an AggregateRecorder only, for the compiler and at run time', async () => {
    const snapshots = new SqlActiveRecordStrategy({ datastore: memory, table: SqlSnapshot });
    const recorder: AggregateRecorder = snapshots;
    expect(hasNotificationLog(recorder)).toBe(false);
    // @ts-expect-error: a snapshots table keeps no notification log
    const log: ApplicationRecorder = snapshots;
    void log;
    // @ts-expect-error: NotificationLogReader takes only a store with a notification log
    expect(() => new NotificationLogReader(snapshots)).toThrow(NotSupportedError);
    // @ts-expect-error: the log methods do not compile over a snapshots table...
    await expect(snapshots.selectNotifications(1, 10)).rejects.toThrow(
      'table snapshots (a snapshot table) has no notification log',
    );
    // @ts-expect-error: ...and reject with NotSupportedError when JavaScript calls them
    await expect(snapshots.maxNotificationId()).rejects.toBeInstanceOf(NotSupportedError);
  });

  it('over a table of unknown kind: no log for the compiler until hasNotificationLog says so', async () => {
    const table: SqlItemsTable = SqlIntegerSequencedItem;
    const strategy = new SqlActiveRecordStrategy({ datastore: memory, table });
    // @ts-expect-error: the kind is not known, so neither is the log
    await strategy.maxNotificationId();
    if (!hasNotificationLog(strategy)) throw new Error('an integer table keeps a log');
    expect(await strategy.maxNotificationId()).toBeGreaterThanOrEqual(0);
  });
});

describe("the table option: `table`, or the seed's `activeRecordClass`", () => {
  let memory: SqlDatastore;
  beforeAll(async () => {
    memory = await SqlDatastore.open({ tables: [SqlIntegerSequencedItem] });
  });
  afterAll(() => memory.close());

  it("takes the seed's name for it", () => {
    const strategy = new SqlActiveRecordStrategy({ datastore: memory, activeRecordClass: SqlSnapshot });
    expect(strategy.table).toBe(SqlSnapshot);
    const kind: 'snapshot' = strategy.table.kind;
    expect(kind).toBe('snapshot');
  });

  it('refuses no table, a name instead of a definition, and two different tables', () => {
    for (const options of [
      {},
      { table: 'integer_sequenced_items' },
      { table: SqlIntegerSequencedItem, activeRecordClass: SqlSnapshot },
      { table: SqlTracking },
    ]) {
      expect(
        () => new SqlActiveRecordStrategy(Object.assign({ datastore: memory }, options) as never),
      ).toThrow(ValidationError);
    }
  });
});

describe('table definitions are immutable values', () => {
  it('withTableName returns a new definition of the same kind; the original stays', () => {
    const renamed = SqlSnapshot.withTableName('entity_snapshots');
    expect([renamed.tableName, renamed.kind, renamed.notificationLog]).toEqual([
      'entity_snapshots',
      'snapshot',
      false,
    ]);
    expect(SqlSnapshot.tableName).toBe('snapshots');
    expect(SqlTracking.withTableName('projections').tableName).toBe('projections');
    expect(Object.isFrozen(SqlIntegerSequencedItem)).toBe(true);
    expect(() => {
      (SqlIntegerSequencedItem as { tableName: string }).tableName = 'changed';
    }).toThrow(TypeError);
    // @ts-expect-error: a table's kind does not change with its name
    const integer: SqlItemsTable<'integer'> = SqlSnapshot.withTableName('x');
    expect(integer.kind).toBe('snapshot');
  });
});
