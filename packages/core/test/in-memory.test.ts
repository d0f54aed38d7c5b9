import {
  ConcurrencyError,
  InMemoryActiveRecordStrategy,
  NotFoundError,
  SequencedItem,
  StoredEvent,
  ValidationError,
  isUuid,
} from '../src/index.js';
import {
  ActiveRecordStrategy,
  ItemShape,
  MAX_SEQUENCE_ID_LENGTH,
  MAX_TOPIC_LENGTH,
  assertIdentifier,
  inRange,
  type NormalizedQuery,
} from '../src/backend.js';
import { uuid } from './fixtures.js';

const item = (sequenceId: string, position: number, data = 'd', topic = 't'): SequencedItem =>
  new SequencedItem(sequenceId, position, topic, data);

async function validationError(promise: Promise<unknown>): Promise<ValidationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('InMemoryActiveRecordStrategy', () => {
  it('out-of-order inserts keep the sequence sorted (timestamp positions)', async () => {
    const s = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp', sequenceIdKind: 'string' });
    await s.append(item('a', 30));
    await s.append(item('a', 10));
    await s.append([item('a', 20), item('a', 40)]);
    await s.append([item('a', 1), item('a', 50)]);
    await s.append(item('a', 35.5));
    const positions = (await s.getItems('a')).map((i) => i.position);
    expect(positions).toEqual([1, 10, 20, 30, 35.5, 40, 50]);
    expect((await s.getItems('a', { gt: 10, lt: 40 })).map((i) => i.position)).toEqual([20, 30, 35.5]);
    expect((await s.getItems('a', { descending: true, limit: 2 })).map((i) => i.position)).toEqual([50, 40]);
    expect((await s.getItem('a', 35.5)).position).toBe(35.5);
  });

  it('a batch that clashes anywhere writes nothing', async () => {
    const s = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp', sequenceIdKind: 'string' });
    await s.append([item('a', 2), item('a', 4)]);
    let error: unknown;
    try {
      await s.append([item('a', 1), item('a', 3), item('a', 4), item('a', 5)]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect((error as ConcurrencyError).sequenceId).toBe('a');
    expect((error as ConcurrencyError).position).toBe(4);
    expect((await s.getItems('a')).map((i) => i.position)).toEqual([2, 4]);
    expect(await s.maxNotificationId()).toBe(2);
  });

  it('integer positions: a conflicting append at the head writes nothing', async () => {
    const s = new InMemoryActiveRecordStrategy();
    const id = uuid();
    await s.append([item(id, 0), item(id, 1)]);
    await expect(s.append([item(id, 1), item(id, 2)])).rejects.toBeInstanceOf(ConcurrencyError);
    await s.append(item(id, 2));
    expect((await s.getItems(id)).map((i) => i.position)).toEqual([0, 1, 2]);
  });

  it('keeps the notification log in append order, across sequences', async () => {
    const s = new InMemoryActiveRecordStrategy({ sequenceIdKind: 'string' });
    await s.append(item('b', 0, 'b0'));
    await s.append([item('a', 0, 'a0'), item('a', 1, 'a1')]);
    await s.append(item('b', 1, 'b1'));
    const log = await s.selectNotifications(1, 10);
    expect(log.map((n) => [n.id, n.data])).toEqual([
      [1, 'b0'],
      [2, 'a0'],
      [3, 'a1'],
      [4, 'b1'],
    ]);
    expect((await s.selectNotifications(3, 1)).map((n) => n.id)).toEqual([3]);
    expect(await s.selectNotifications(0, 2)).toEqual(log.slice(0, 2));
    expect(await s.selectNotifications(5, 10)).toEqual([]);
    expect(await s.maxNotificationId()).toBe(4);
    expect((await s.listSequenceIds()).sort()).toEqual(['a', 'b']);
  });

  it('an unknown sequence has no items', async () => {
    const s = new InMemoryActiveRecordStrategy();
    const id = uuid();
    expect(await s.getItems(id)).toEqual([]);
    await expect(s.getItem(id, 0)).rejects.toBeInstanceOf(NotFoundError);
    expect(await s.listSequenceIds()).toEqual([]);
    expect(await s.maxNotificationId()).toBe(0);
  });

  it('uuid sequence ids are stored in lower case and found in any case', async () => {
    const s = new InMemoryActiveRecordStrategy();
    const id = uuid();
    await s.append(item(id.toUpperCase(), 0));
    expect((await s.getItem(id, 0)).sequenceId).toBe(id);
    expect(await s.getItems(id.toUpperCase())).toHaveLength(1);
    expect(await s.listSequenceIds()).toEqual([id]);
  });

  it('range queries: bounds combine, the tighter one wins, limit counts from the first returned', async () => {
    const s = new InMemoryActiveRecordStrategy();
    const id = uuid();
    await s.append(Array.from({ length: 10 }, (_, i) => item(id, i)));
    const positions = async (q: object): Promise<number[]> =>
      (await s.getItems(id, q)).map((i) => i.position);
    expect(await positions({ gte: 3, lt: 6 })).toEqual([3, 4, 5]);
    expect(await positions({ gt: 3, lte: 6 })).toEqual([4, 5, 6]);
    expect(await positions({ gt: 3, gte: 5 })).toEqual([5, 6, 7, 8, 9]);
    expect(await positions({ gt: 5, gte: 3, lt: 8, lte: 7 })).toEqual([6, 7]);
    expect(await positions({ gte: 2, limit: 3 })).toEqual([2, 3, 4]);
    expect(await positions({ lte: 5, limit: 2, descending: true })).toEqual([5, 4]);
    expect(await positions({ gt: 7, lt: 3 })).toEqual([]);
    expect(await positions({ gte: 3, lte: 3 })).toEqual([3]);
  });

  it('iterateItems reads page by page, in both directions and with a limit', async () => {
    const s = new InMemoryActiveRecordStrategy();
    const id = uuid();
    await s.append(Array.from({ length: 10 }, (_, i) => item(id, i)));
    const collect = async (q: object): Promise<number[]> => {
      const out: number[] = [];
      for await (const i of s.iterateItems(id, q)) out.push(i.position);
      return out;
    };
    expect(await collect({ pageSize: 3 })).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await collect({ pageSize: 5 })).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await collect({ pageSize: 4, descending: true })).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(await collect({ pageSize: 3, gte: 2, limit: 5 })).toEqual([2, 3, 4, 5, 6]);
    expect(await collect({ pageSize: 3, lt: 8, descending: true, limit: 4 })).toEqual([7, 6, 5, 4]);
    expect(await collect({})).toHaveLength(10);
    await expect(collect({ pageSize: 0 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('stores and returns the StoredEvent item class', async () => {
    const s = new InMemoryActiveRecordStrategy({ sequencedItemClass: StoredEvent });
    const id = uuid();
    await s.append([new StoredEvent(id, 0, 't', 'a'), new StoredEvent(id, 1, 't', 'b')]);
    const items = await s.getItems(id);
    expect(items.every((i) => i instanceof StoredEvent)).toBe(true);
    expect(items.map((i) => [i.originatorId, i.originatorVersion, i.topic, i.state])).toEqual([
      [id, 0, 't', 'a'],
      [id, 1, 't', 'b'],
    ]);
    expect(await s.getItem(id, 1)).toEqual(new StoredEvent(id, 1, 't', 'b'));
    const iterated: StoredEvent[] = [];
    for await (const i of s.iterateItems(id)) iterated.push(i);
    expect(iterated).toEqual(items);
    await expect(s.append(new StoredEvent(id, 1, 't', 'c'))).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('returns instances of a custom item class with the canonical field names', async () => {
    class Row {
      constructor(
        readonly sequenceId: string,
        readonly position: number,
        readonly topic: string,
        readonly data: string,
      ) {}
    }
    const s = new InMemoryActiveRecordStrategy({ sequencedItemClass: Row });
    const id = uuid();
    await s.append(new Row(id, 0, 't', 'x'));
    expect(await s.getItem(id, 0)).toBeInstanceOf(Row);
    const [first] = await s.getItems(id);
    expect(first).toBeInstanceOf(Row);
    expect(first).toEqual(new Row(id, 0, 't', 'x'));
  });

  it('close resolves', async () => {
    await expect(new InMemoryActiveRecordStrategy().close()).resolves.toBeUndefined();
  });
});

describe('ActiveRecordStrategy validation', () => {
  const strategy = new InMemoryActiveRecordStrategy({ maxItemBytes: 100, maxBatchSize: 3 });
  const id = uuid();

  it.each([
    ['an empty batch', [], 'items', /empty batch/],
    ['a batch too large', [0, 1, 2, 3].map((p) => item(id, p)), 'items', /at most 3 items/],
    ['a non-object item', [null], 'items', /item 0 is not a sequenced item/],
    ['a sequence id that is not a UUID', [item('nope', 0)], 'sequenceId', /must be a UUID/],
    ['two sequences in one batch', [item(id, 0), item(uuid(), 1)], 'sequenceId', /one sequence/],
    ['a negative position', [item(id, -1)], 'position', /non-negative integer/],
    ['a fractional integer position', [item(id, 1.5)], 'position', /non-negative integer/],
    ['descending positions', [item(id, 2), item(id, 1)], 'position', /strictly ascending/],
    ['repeated positions', [item(id, 1), item(id, 1)], 'position', /strictly ascending/],
    ['a gap in integer positions', [item(id, 1), item(id, 3)], 'position', /consecutive/],
    ['an empty topic', [item(id, 0, 'd', '')], 'topic', /topic must be/],
    ['a topic too long', [item(id, 0, 'd', 'x'.repeat(MAX_TOPIC_LENGTH + 1))], 'topic', /topic must be/],
    ['a topic with NUL', [item(id, 0, 'd', 'a\0b')], 'topic', /without NUL/],
    // A topic is checked once per run of equal topics: a different one later in the batch still is.
    [
      'a bad topic after two good ones',
      [item(id, 0, 'd', 't'), item(id, 1, 'd', 't'), item(id, 2, 'd', '')],
      'topic',
      /topic must be/,
    ],
    [
      'data that is not a string',
      [new SequencedItem(id, 0, 't', 5 as unknown as string)],
      'data',
      /must be a string/,
    ],
    ['data too large', [item(id, 0, 'x'.repeat(101))], 'data', /larger than 100 bytes/],
    ['multi-byte data too large', [item(id, 0, 'é'.repeat(51))], 'data', /larger than 100 bytes/],
    ['data with NUL', [item(id, 0, 'a\0b')], 'data', /NUL/],
  ] as const)('refuses %s, naming the field, and writes nothing', async (_what, batch, field, message) => {
    const error = await validationError(strategy.append(batch as unknown as SequencedItem[]));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(await strategy.getItems(id)).toEqual([]);
    expect(await strategy.maxNotificationId()).toBe(0);
  });

  it('accepts data right at the byte limit, counting UTF-8 bytes', async () => {
    const s = new InMemoryActiveRecordStrategy({ maxItemBytes: 100 });
    await s.append(item(id, 0, 'é'.repeat(50)));
    await s.append(item(id, 1, 'x'.repeat(100)));
    expect(await s.getItems(id)).toHaveLength(2);
  });

  it('string sequence ids: any non-empty string without NUL, up to the length limit', async () => {
    const s = new InMemoryActiveRecordStrategy({ sequenceIdKind: 'string' });
    await s.append(item('order/42 é', 0));
    expect(await s.getItems('order/42 é')).toHaveLength(1);
    for (const bad of ['', 'a\0b', 'x'.repeat(MAX_SEQUENCE_ID_LENGTH + 1), 7]) {
      expect((await validationError(s.getItems(bad as string))).field).toBe('sequenceId');
    }
    await s.append(item('x'.repeat(MAX_SEQUENCE_ID_LENGTH), 0));
  });

  it('timestamp positions: finite non-negative numbers, not necessarily consecutive', async () => {
    const s = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' });
    await s.append([item(id, 1.25), item(id, 7.5)]);
    for (const bad of [-1, Infinity, NaN, '3']) {
      const error = await validationError(s.append(item(id, bad as number)));
      expect(error.message).toMatch(/non-negative finite number/);
    }
  });

  it('checks getItem positions and query fields', async () => {
    expect((await validationError(strategy.getItem(id, -1))).field).toBe('position');
    expect((await validationError(strategy.getItem('nope', 0))).field).toBe('sequenceId');
    for (const [q, field] of [
      [{ gt: 'x' }, 'gt'],
      [{ gte: NaN }, 'gte'],
      [{ lt: null }, 'lt'],
      [{ lte: '1' }, 'lte'],
      [{ limit: 0 }, 'limit'],
      [{ limit: 1.5 }, 'limit'],
    ] as const) {
      expect((await validationError(strategy.getItems(id, q as object))).field).toBe(field);
    }
  });

  it('checks notification arguments', async () => {
    expect((await validationError(strategy.selectNotifications(-1, 10))).field).toBe('start');
    expect((await validationError(strategy.selectNotifications(1.5, 10))).field).toBe('start');
    expect((await validationError(strategy.selectNotifications(1, 0))).field).toBe('limit');
  });

  it('checks its settings', () => {
    for (const [options, field] of [
      [{ maxItemBytes: 0 }, 'maxItemBytes'],
      [{ maxItemBytes: 1.5 }, 'maxItemBytes'],
      [{ maxBatchSize: 0 }, 'maxBatchSize'],
      [{ maxBatchSize: Infinity }, 'maxBatchSize'],
    ] as const) {
      expect(() => new InMemoryActiveRecordStrategy(options)).toThrow(ValidationError);
      try {
        new InMemoryActiveRecordStrategy(options);
      } catch (e) {
        expect((e as ValidationError).field).toBe(field);
      }
    }
    const s = new InMemoryActiveRecordStrategy();
    expect([
      s.positionKind,
      s.sequenceIdKind,
      s.maxItemBytes,
      s.maxBatchSize,
      s.supportsNotifications,
    ]).toEqual(['integer', 'uuid', 1024 * 1024, 10_000, true]);
  });
});

describe('a backend without a notification log', () => {
  class Minimal extends ActiveRecordStrategy {
    readonly inserted: SequencedItem[][] = [];
    protected async insert(items: readonly SequencedItem[]): Promise<void> {
      this.inserted.push([...items]);
    }
    protected async select(): Promise<SequencedItem[]> {
      return [];
    }
    protected async selectSequenceIds(): Promise<string[]> {
      return [];
    }
  }

  it('receives validated canonical items, with uuids in lower case', async () => {
    const s = new Minimal();
    const id = uuid();
    await s.append(item(id.toUpperCase(), 0));
    expect(s.inserted).toEqual([[item(id, 0)]]);
    expect(s.inserted[0]![0]).toBeInstanceOf(SequencedItem);
  });
});

describe('helpers', () => {
  it('inRange honours inclusive and exclusive bounds', () => {
    const q: NormalizedQuery = {
      lower: 1,
      lowerInclusive: false,
      upper: 3,
      upperInclusive: true,
      limit: undefined,
      descending: false,
    };
    expect([0, 1, 2, 3, 4].filter((p) => inRange(p, q))).toEqual([2, 3]);
    const open: NormalizedQuery = { ...q, lower: -Infinity, upper: Infinity };
    expect(inRange(1e15, open)).toBe(true);
  });

  it('isUuid', () => {
    expect(isUuid(uuid())).toBe(true);
    expect(isUuid(uuid().toUpperCase())).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid(`${uuid()}x`)).toBe(false);
    expect(isUuid(42)).toBe(false);
  });

  it('assertIdentifier accepts plain identifiers and names what was wrong', () => {
    expect(assertIdentifier('events_2024', 'table')).toBe('events_2024');
    expect(assertIdentifier('_x', 'table')).toBe('_x');
    for (const bad of ['1abc', 'a-b', 'a b', 'x'.repeat(49), '', 'drop;table', undefined]) {
      expect(() => assertIdentifier(bad, 'keyspace')).toThrow(ValidationError);
      try {
        assertIdentifier(bad, 'keyspace');
      } catch (e) {
        expect((e as ValidationError).field).toBe('keyspace');
        expect((e as Error).message).toContain('keyspace must be a plain identifier');
      }
    }
    expect(assertIdentifier('x'.repeat(48), 'table')).toHaveLength(48);
  });

  it('ItemShape converts between StoredEvent and SequencedItem', () => {
    const shape = new ItemShape(StoredEvent);
    expect(shape.isCanonical).toBe(false);
    const canonical = shape.toCanonical(new StoredEvent('s', 1, 't', 'd'));
    expect(canonical).toEqual(new SequencedItem('s', 1, 't', 'd'));
    expect(shape.fromCanonical(canonical)).toEqual(new StoredEvent('s', 1, 't', 'd'));
    const same = new ItemShape(SequencedItem);
    const it = new SequencedItem('s', 1, 't', 'd');
    expect(same.toCanonical(it)).toBe(it);
    expect(same.fromCanonical(it)).toBe(it);
  });
});

describe('infinite bounds', () => {
  it('a range above +Infinity or below -Infinity is empty, never "unbounded"', async () => {
    const strategy = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' });
    const id = uuid();
    await strategy.append([new SequencedItem(id, 1.5, 't', '{}'), new SequencedItem(id, 2.5, 't', '{}')]);
    expect(await strategy.getItems(id, { gt: Infinity })).toEqual([]);
    expect(await strategy.getItems(id, { lt: -Infinity })).toEqual([]);
    expect(await strategy.getItems(id, { gt: 2, lt: 2 })).toEqual([]);
    expect((await strategy.getItems(id, { gte: -Infinity, lte: Infinity })).length).toBe(2);
    const pages: unknown[] = [];
    for await (const page of strategy.iteratePages(id, { gt: Infinity })) pages.push(page);
    expect(pages).toEqual([]);
  });
});

describe('items an in-memory store hands out', () => {
  it('are frozen: a reader cannot change what is stored', async () => {
    const s = new InMemoryActiveRecordStrategy();
    const id = uuid();
    await s.append([item(id, 0, '{"a":1}'), item(id, 1, '{"a":2}')]);
    const [first] = await s.getItems(id);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      (first as { data: string }).data = '{"a":"changed"}';
    }).toThrow(TypeError);
    expect((await s.getItem(id, 0)).data).toBe('{"a":1}');
  });

  it('come in a list of the reader own: changing the list changes nothing stored', async () => {
    const s = new InMemoryActiveRecordStrategy();
    const id = uuid();
    await s.append([item(id, 0), item(id, 1)]);
    const list = await s.getItems(id);
    list.pop();
    list.reverse();
    expect((await s.getItems(id)).map((i) => i.position)).toEqual([0, 1]);
  });
});
