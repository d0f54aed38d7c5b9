/**
 * Deferred encoding in memory: an EventStore over the in-memory store hands it the events' items with
 * the JSON of a flat payload not made yet, and the store makes it when an item is first read. Nothing a
 * user sees may change: the items read, the log, the decoded events, the size limit, the refusals.
 */
import {
  AesGcmCipher,
  DomainEvent,
  EventStore,
  InMemoryActiveRecordStrategy,
  type SequencedItem,
  SequencedItemMapper,
  TopicRegistry,
  ValidationError,
} from '../src/index.js';
import { DeferredItem, flatPayloadBound } from '../src/sequenced-item.js';
import { uuid } from './fixtures.js';

const topics = new TopicRegistry();
class Noted extends DomainEvent {}
topics.register('test.deferred.Noted', Noted);

function setUp(strategy = new InMemoryActiveRecordStrategy(), mapper = new SequencedItemMapper({ topics })) {
  const store = new EventStore({ activeRecordStrategy: strategy, sequencedItemMapper: mapper });
  return { strategy, mapper, store };
}

const noted = (id: string, version: number, fields: Record<string, unknown>): DomainEvent =>
  new Noted({ originatorId: id, originatorVersion: version, ...fields });

/** What the store keeps at the end of its log (a private field: how the test sees deferral). */
const lastKept = (strategy: InMemoryActiveRecordStrategy): unknown => {
  const log = (strategy as unknown as { log: unknown[] }).log;
  return log[log.length - 1];
};

describe('deferred items in memory', () => {
  it('are kept deferred, and read back as the plain items the mapper would make, frozen', async () => {
    const { strategy, mapper, store } = setUp();
    const id = uuid();
    const events = [
      noted(id, 0, { text: 'a "quoted" \\ line\n', n: 1.5, yes: true, none: null, gone: undefined }),
      noted(id, 1, { text: 'lone \ud800 surrogate, and é and 😀', big: 1e300, small: -5e-7 }),
    ];
    await store.append(events);
    expect(lastKept(strategy)).toBeInstanceOf(DeferredItem);
    const items = await strategy.getItems(id);
    expect(items).toEqual(events.map((event) => mapper.toSequencedItem(event)));
    for (const item of items) expect(Object.isFrozen(item)).toBe(true);
    expect(lastKept(strategy)).not.toBeInstanceOf(DeferredItem);
    expect(await store.getDomainEvents(id)).toEqual(events);
  });

  it('made plain once, in place: every read, and the log, hand out the same object', async () => {
    const { strategy, mapper, store } = setUp();
    const id = uuid();
    await store.append([noted(id, 0, { text: 'x' }), noted(id, 1, { text: 'y' })]);
    // The log first: the sequence then hands out the items the log made.
    const [first, second] = await strategy.selectNotifications(1, 10);
    const items = await strategy.getItems(id);
    expect(items.map(({ data }) => data)).toEqual([first!.data, second!.data]);
    expect(await strategy.getItems(id)).toEqual(items);
    expect((await strategy.getItems(id))[0]).toBe(items[0]);
    expect(await strategy.getItem(id, 1)).toBe(items[1]);
    // The mapper keeps the event it decoded from a frozen item: the same event for every read.
    const [event] = await store.getDomainEvents(id);
    expect((await store.getDomainEvents(id))[0]).toBe(event);
    expect(mapper.fromSequencedItem(items[0]!)).toBe(event);
  });

  it('the log reads a deferred item plain, and the sequence then hands out that object', async () => {
    const { strategy, store } = setUp();
    const id = uuid();
    await store.append(noted(id, 0, { text: 'x' }));
    const [notification] = await strategy.selectNotifications(1, 1);
    expect(notification).toEqual({
      id: 1,
      sequenceId: id,
      position: 0,
      topic: 'test.deferred.Noted',
      data: expect.stringContaining('"text":"x"'),
    });
    const [item] = await strategy.getItems(id);
    expect(item!.data).toBe(notification!.data);
    expect(lastKept(strategy)).toBe(item);
  });

  it('an upper-case UUID is stored, and read, in lower case', async () => {
    const { strategy, store } = setUp();
    const id = uuid();
    await store.append(noted(id.toUpperCase(), 0, { text: 'x' }));
    expect((lastKept(strategy) as DeferredItem).sequenceId).toBe(id);
    expect((await strategy.getItems(id)).map(({ sequenceId }) => sequenceId)).toEqual([id]);
  });

  it('snapshots and events read together are plain', async () => {
    const events = new InMemoryActiveRecordStrategy();
    const snapshots = new InMemoryActiveRecordStrategy({ contiguous: false });
    const { store } = setUp(events);
    const { store: snapshotStore } = setUp(snapshots);
    const id = uuid();
    await store.append([noted(id, 0, { text: 'a' }), noted(id, 1, { text: 'b' })]);
    await snapshotStore.append(noted(id, 0, { state: 'flat' }));
    const tail = await events.getSnapshotTail(snapshots, id, { limit: 10 });
    expect(tail.snapshot).toEqual(await snapshots.getItem(id, 0));
    expect(tail.snapshot).toBe(await snapshots.getItem(id, 0));
    expect(tail.events).toEqual(await events.getItems(id));
  });

  it('a conflict stores nothing, deferred or not', async () => {
    const { strategy, store } = setUp();
    const id = uuid();
    await store.append(noted(id, 0, { text: 'x' }));
    await expect(store.append(noted(id, 0, { text: 'y' }))).rejects.toThrow('position 0');
    expect(await strategy.maxNotificationId()).toBe(1);
    expect((await strategy.getItems(id)).map(({ data }) => JSON.parse(data).text)).toEqual(['x']);
  });
});

describe('maxItemBytes without the text', () => {
  /** The UTF-8 bytes of an event's data, as the mapper makes it. */
  const bytesOf = (event: DomainEvent): number =>
    Buffer.byteLength(new SequencedItemMapper({ topics }).toSequencedItem(event).data, 'utf8');

  it('at the limit, accepted; one byte over, a ValidationError, and nothing stored', async () => {
    const id = uuid();
    // One timestamp for both: its text's length varies with its digits.
    const timestamp = 1_700_000_000_000.25;
    const atLimit = noted(id, 0, { text: 'é'.repeat(40), timestamp });
    const limit = bytesOf(atLimit);
    const over = noted(id, 1, { text: `${'é'.repeat(40)}x`, timestamp });
    expect(bytesOf(over)).toBe(limit + 1);
    const { strategy, store } = setUp(new InMemoryActiveRecordStrategy({ maxItemBytes: limit }));
    await store.append(atLimit);
    await expect(store.append(over)).rejects.toThrow(
      new ValidationError(`data is larger than ${limit} bytes`, 'data'),
    );
    expect(await strategy.maxNotificationId()).toBe(1);
    expect((await strategy.getItems(id)).map(({ data }) => Buffer.byteLength(data))).toEqual([limit]);
  });

  it('a payload whose bound is over the limit but whose text is not: checked exactly, and kept plain', async () => {
    const id = uuid();
    const event = noted(id, 0, { text: 'a'.repeat(100) });
    const limit = bytesOf(event);
    const mapper = new SequencedItemMapper({ topics });
    expect((mapper.toDeferredItem(event) as DeferredItem).maxBytes).toBeGreaterThan(limit);
    const { strategy, store } = setUp(new InMemoryActiveRecordStrategy({ maxItemBytes: limit }), mapper);
    await store.append(event);
    expect(lastKept(strategy)).not.toBeInstanceOf(DeferredItem);
    expect(await store.getDomainEvents(id)).toEqual([event]);
  });

  it('well within the limit: kept deferred', async () => {
    const { strategy, store } = setUp(new InMemoryActiveRecordStrategy({ maxItemBytes: 1000 }));
    await store.append(noted(uuid(), 0, { text: 'a'.repeat(100) }));
    expect(lastKept(strategy)).toBeInstanceOf(DeferredItem);
  });

  it('the bound is never below the JSON it stands for', () => {
    const strings = ['', 'a', '"\\', '\u0000\u001f', '\ud800', '😀', 'é', '\u2028'];
    const numbers = [
      0,
      -1,
      1.5,
      1e21,
      -1.7976931348623157e308,
      5e-324,
      -Math.PI / 1e7,
      -Math.E / 1e6,
      0.000001234,
    ];
    const payloads: Record<string, unknown>[] = [
      {},
      { a: null, b: true, c: false, d: undefined },
      ...strings.map((s) => ({ [s || 'k']: s })),
      ...numbers.map((n) => ({ n })),
    ];
    for (const payload of payloads) {
      const bound = flatPayloadBound(payload);
      expect(bound).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(payload), 'utf8'));
    }
  });
});

describe('what is not deferred', () => {
  const deferred = (mapper: SequencedItemMapper, fields: Record<string, unknown>): boolean =>
    mapper.toDeferredItem(noted(uuid(), 0, fields)) instanceof DeferredItem;

  it('a payload with a nested value, a tagged value or a $ key: encoded now, and read back exactly', async () => {
    const mapper = new SequencedItemMapper({ topics });
    expect(deferred(mapper, { text: 'x', n: 2 })).toBe(true);
    const values = [{ nested: { a: 1 } }, { list: [1] }, { n: NaN }, { n: -0 }, { n: Infinity }];
    const more = [{ at: new Date(0) }, { big: 10n }, { $tag: 'x' }];
    for (const fields of [...values, ...more]) expect(deferred(mapper, fields)).toBe(false);
    const { strategy, store } = setUp(new InMemoryActiveRecordStrategy(), mapper);
    const id = uuid();
    const events = [...values, ...more].map((fields, i) => noted(id, i, fields));
    await store.append(events);
    expect(await store.getDomainEvents(id)).toEqual(events);
    expect(lastKept(strategy)).not.toBeInstanceOf(DeferredItem);
  });

  it("a cipher, compression or a transcoder of the user's: never deferred, and still read back", async () => {
    const cipher = new AesGcmCipher(AesGcmCipher.createKey());
    const mappers = [
      new SequencedItemMapper({ topics, cipher }),
      new SequencedItemMapper({ topics, compress: true }),
      new SequencedItemMapper({
        topics,
        transcoder: { encode: (v) => JSON.stringify(v), decode: (d) => JSON.parse(d) as unknown },
      }),
    ];
    for (const mapper of mappers) {
      expect(deferred(mapper, { text: 'x' })).toBe(false);
      const { strategy, store } = setUp(new InMemoryActiveRecordStrategy(), mapper);
      const id = uuid();
      const event = noted(id, 0, { text: 'x' });
      await store.append(event);
      expect(lastKept(strategy)).not.toBeInstanceOf(DeferredItem);
      expect(await store.getDomainEvents(id)).toEqual([event]);
    }
  });

  it('a subclass that overrides insert is handed plain items, as before', async () => {
    const seen: unknown[] = [];
    class Watching extends InMemoryActiveRecordStrategy {
      protected override insert(items: readonly SequencedItem[]): Promise<void> {
        seen.push(...items);
        return super.insert(items);
      }
    }
    const { store } = setUp(new Watching());
    await store.append(noted(uuid(), 0, { text: 'x' }));
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toBeInstanceOf(DeferredItem);
    expect(Object.keys(seen[0] as object)).toEqual(['sequenceId', 'position', 'topic', 'data']);
  });

  it("a strategy subclass that overrides validateData, or a mapper's that overrides toSequencedItem, sees every item", async () => {
    class Strict extends InMemoryActiveRecordStrategy {
      protected override validateData(data: string): void {
        if (data.includes('forbidden')) throw new ValidationError('forbidden data', 'data');
        super.validateData(data);
      }
    }
    const strict = setUp(new Strict());
    await expect(strict.store.append(noted(uuid(), 0, { text: 'forbidden' }))).rejects.toThrow(
      'forbidden data',
    );
    expect(await strict.strategy.maxNotificationId()).toBe(0);

    class Redacting extends SequencedItemMapper {
      override toSequencedItem(event: DomainEvent): SequencedItem {
        const item = super.toSequencedItem(event);
        return { ...item, data: item.data.replace('secret', '[redacted]') };
      }
    }
    const redacting = setUp(undefined, new Redacting({ topics }));
    const id = uuid();
    await redacting.store.append(noted(id, 0, { text: 'secret' }));
    const [stored] = await redacting.strategy.getItems(id);
    expect(stored!.data).toContain('"text":"[redacted]"');
    expect(stored!.data).not.toContain('secret');
  });

  it('a payload whose text could pass the longest string V8 makes is not deferred: encoded at once, where JSON errors are ValidationErrors', () => {
    // 'é' counts 6 bytes a unit in the bound: past 2^28 bytes, the bound gives up (undefined).
    expect(flatPayloadBound({ s: 'é'.repeat(2 ** 28 / 6 + 1) })).toBeUndefined();
    expect(flatPayloadBound({ s: 'é'.repeat(2 ** 28 / 6 - 10) })).toBeDefined();
  });

  it('one deferred item appended to two stores: each log hands out its own notification', async () => {
    const mapper = new SequencedItemMapper({ topics });
    const [a, b] = [new InMemoryActiveRecordStrategy(), new InMemoryActiveRecordStrategy()];
    await a.append(mapper.toSequencedItem(noted(uuid(), 0, { text: 'first' })));
    const shared = mapper.toDeferredItem(noted(uuid(), 0, { text: 'shared' })) as unknown as SequencedItem;
    await a.append(shared);
    await b.append(shared);
    await a.getItems(shared.sequenceId); // made plain in a first
    const [first, second] = await a.selectNotifications(1, 10);
    expect(first).toMatchObject({ id: 1, data: expect.stringContaining('"text":"first"') });
    expect(second).toMatchObject({
      id: 2,
      sequenceId: shared.sequenceId,
      data: expect.stringContaining('"text":"shared"'),
    });
    const [inB] = await b.selectNotifications(1, 10);
    expect(inB).toMatchObject({
      id: 1,
      sequenceId: shared.sequenceId,
      data: expect.stringContaining('"text":"shared"'),
    });
    expect(await a.selectNotifications(1, 10)).toHaveLength(2);
  });

  it('refusals at append time are as before: __proto__, Map, Set, functions, too deep', async () => {
    const { strategy, store } = setUp();
    const id = uuid();
    const bad: Record<string, unknown>[] = [
      { m: new Map() },
      { s: new Set() },
      { f: () => 1 },
      { sym: Symbol('x') },
      { deep: JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`) },
    ];
    for (const fields of bad)
      await expect(store.append(noted(id, 0, fields))).rejects.toThrow(ValidationError);
    const proto = noted(id, 0, {});
    Object.defineProperty(proto, '__proto__', { value: 'x', enumerable: true });
    await expect(store.append(proto)).rejects.toThrow('"__proto__"');
    expect(await strategy.maxNotificationId()).toBe(0);
  });
});
