/**
 * Capabilities in types: a store without a notification log offers no log methods, and whatever reads
 * the log refuses it. `pnpm typecheck` compiles this file, so each `@ts-expect-error` below is a call the
 * compiler must keep refusing (one that starts compiling fails the typecheck); jest runs the same calls
 * to check the run-time refusal that JavaScript callers get.
 */
import {
  type AggregateRecorder,
  Application,
  type ApplicationRecorder,
  InMemoryActiveRecordStrategy,
  NotSupportedError,
  NotificationLogReader,
  SequencedItem,
  ValidationError,
  hasNotificationLog,
} from '../src/index.js';
import { ActiveRecordStrategy, requireNotificationLog, tableOption } from '../src/backend.js';
import { uuid, widgetPublisher } from './fixtures.js';

/** A backend that keeps no log: the three hooks only, as a third party would write one. */
class Minimal extends ActiveRecordStrategy {
  protected async insert(): Promise<void> {}
  protected async select(): Promise<SequencedItem[]> {
    return [];
  }
  protected async selectSequenceIds(): Promise<string[]> {
    return [];
  }
}

describe('a store with a notification log (an ApplicationRecorder)', () => {
  it('the in-memory store is one, for the compiler and at run time', async () => {
    const store = new InMemoryActiveRecordStrategy();
    const recorder: ApplicationRecorder = store;
    expect(hasNotificationLog(store)).toBe(true);
    await store.append(new SequencedItem(uuid(), 0, 't', '{}'));
    expect(await new NotificationLogReader(recorder).maxNotificationId()).toBe(1);
  });

  it('an application over it has a notification log, typed as there', async () => {
    const app = new Application({
      activeRecordStrategy: new InMemoryActiveRecordStrategy(),
      publisher: widgetPublisher,
    });
    const reader: NotificationLogReader = app.notificationLog;
    expect(reader).toBeInstanceOf(NotificationLogReader);
    await app.close();
  });

  it('hasNotificationLog narrows a store typed as an aggregate recorder', async () => {
    const store: AggregateRecorder = new InMemoryActiveRecordStrategy();
    // @ts-expect-error: an AggregateRecorder has no log methods
    void store.maxNotificationId;
    if (!hasNotificationLog(store)) throw new Error('the in-memory store keeps a log');
    expect(await store.maxNotificationId()).toBe(0);
  });
});

describe('a store without a notification log (an AggregateRecorder only)', () => {
  it('has no log methods', () => {
    const store = new Minimal();
    // @ts-expect-error: no log, no selectNotifications
    expect(store.selectNotifications).toBeUndefined();
    // @ts-expect-error: no log, no maxNotificationId
    expect(store.maxNotificationId).toBeUndefined();
    expect(hasNotificationLog(store)).toBe(false);
  });

  it('NotificationLogReader refuses it: the compiler, and NotSupportedError naming it for JavaScript', () => {
    // @ts-expect-error: NotificationLogReader takes only an ApplicationRecorder
    const refused = () => new NotificationLogReader(new Minimal());
    expect(refused).toThrow(NotSupportedError);
    expect(refused).toThrow(
      /NotificationLogReader needs a store with a notification log.*Minimal keeps none/,
    );
    const typedAsAggregate: AggregateRecorder = new InMemoryActiveRecordStrategy();
    // @ts-expect-error: a store typed without a log is refused even when it has one at run time
    expect(new NotificationLogReader(typedAsAggregate)).toBeInstanceOf(NotificationLogReader);
  });

  it('a flag alone is not a log: the methods must be there too', () => {
    const liar = Object.assign(new Minimal(), { supportsNotifications: true });
    expect(hasNotificationLog(liar)).toBe(false);
    expect(() => requireNotificationLog(liar as never, 'a follower')).toThrow(/a follower needs/);
  });

  it('an application over it has no notification log, and its type says it may be missing', async () => {
    const app = new Application({ activeRecordStrategy: new Minimal(), publisher: widgetPublisher });
    // @ts-expect-error: NotificationLogReader | undefined
    const reader: NotificationLogReader = app.notificationLog;
    expect(reader).toBeUndefined();
    await app.close();
  });
});

describe("tableOption: `table`, or the seed's `activeRecordClass`", () => {
  const definition = { tableName: 'events' };
  const isTable = (value: unknown): value is typeof definition => value === definition;

  it('takes either name', () => {
    expect(tableOption({ table: definition }, isTable, 'T')).toBe(definition);
    expect(tableOption({ activeRecordClass: definition }, isTable, 'T')).toBe(definition);
    expect(tableOption({ table: definition, activeRecordClass: definition }, isTable, 'T')).toBe(definition);
  });

  it('refuses neither, something else, or two different tables, with a ValidationError on `table`', () => {
    for (const options of [
      {},
      { table: 'events' },
      { table: definition, activeRecordClass: { tableName: 'x' } },
    ]) {
      expect(() => tableOption(options, isTable, 'SqlIntegerSequencedItem')).toThrow(ValidationError);
    }
    expect(() => tableOption({}, isTable, 'SqlIntegerSequencedItem')).toThrow(
      'table must be a table definition such as SqlIntegerSequencedItem',
    );
  });
});
