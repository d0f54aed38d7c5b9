import {
  InMemoryActiveRecordStrategy,
  NotificationItem,
  NotificationLogReader,
  SequencedItem,
  SequencedItemMapper,
  ValidationError,
  type DomainEvent,
  type Notification,
} from '../src/index.js';
import { Widget, rejectionOf, uuid } from './fixtures.js';

class CountingStrategy extends InMemoryActiveRecordStrategy {
  reads: [number, number][] = [];
  override selectNotifications(start: number, limit: number): Promise<Notification[]> {
    this.reads.push([start, limit]);
    return super.selectNotifications(start, limit);
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

async function setUp(count: number) {
  const strategy = new CountingStrategy();
  const mapper = new SequencedItemMapper();
  const events: DomainEvent[] = [];
  for (let i = 0; i < count; i++) {
    const event = new Widget.Created({ originatorId: uuid(), originatorVersion: 0, foo: `w${i}` });
    events.push(event);
    await strategy.append(mapper.toSequencedItem(event));
  }
  strategy.reads = [];
  return { strategy, mapper, events, reader: new NotificationLogReader(strategy, mapper) };
}

describe('NotificationLogReader', () => {
  it('reads everything from the start, a page at a time', async () => {
    const { strategy, reader } = await setUp(7);
    const all = await collect(reader.read({ pageSize: 3 }));
    expect(all.map((n) => n.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(strategy.reads).toEqual([
      [1, 3],
      [4, 3],
      [7, 3],
    ]);
  });

  it('resumes after a checkpoint', async () => {
    const { strategy, reader } = await setUp(7);
    expect((await collect(reader.read({ after: 4, pageSize: 2 }))).map((n) => n.id)).toEqual([5, 6, 7]);
    expect(strategy.reads).toEqual([
      [5, 2],
      [7, 2],
    ]);
    expect(await collect(reader.read({ after: 7 }))).toEqual([]);
  });

  it('a full last page costs one more, empty, read', async () => {
    const { strategy, reader } = await setUp(4);
    expect(await collect(reader.read({ pageSize: 2 }))).toHaveLength(4);
    expect(strategy.reads).toEqual([
      [1, 2],
      [3, 2],
      [5, 2],
    ]);
  });

  it('readEvents decodes the notifications into events with their ids', async () => {
    const { reader, events } = await setUp(3);
    const decoded = await collect(reader.readEvents({ after: 1 }));
    expect(decoded.map((d) => d.id)).toEqual([2, 3]);
    expect(decoded.map((d) => d.event)).toEqual(events.slice(1));
    expect(decoded[0]!.event).toBeInstanceOf(Widget.Created);
    expect(await reader.maxNotificationId()).toBe(3);
  });

  it('decodes each notification as the item it is, without a copy', async () => {
    const { reader, mapper, events } = await setUp(3);
    const pages = await collect(reader.readPages());
    expect(pages[0]!.every((n) => n instanceof NotificationItem && n instanceof SequencedItem)).toBe(true);
    const decoded: unknown[] = [];
    const decode = mapper.fromSequencedItem.bind(mapper);
    mapper.fromSequencedItem = (item) => {
      decoded.push(item);
      return decode(item);
    };
    const read = await collect(reader.readEvents());
    expect(read.map((d) => d.event)).toEqual(events);
    expect(decoded).toHaveLength(3);
    for (const item of decoded) expect(item).toBeInstanceOf(NotificationItem);
  });

  it("decodes a strategy's plain notifications too", async () => {
    const { strategy, mapper, events } = await setUp(2);
    const plain = Object.assign(Object.create(strategy) as CountingStrategy, {
      selectNotifications: async (start: number, limit: number): Promise<Notification[]> =>
        (await strategy.selectNotifications(start, limit)).map((n) => ({ ...n })),
    });
    const read = await collect(new NotificationLogReader(plain, mapper).readEvents());
    expect(read.map((d) => [d.id, d.event])).toEqual(events.map((e, i) => [i + 1, e]));
  });

  it('refuses a bad checkpoint or page size, and readEvents without a mapper', async () => {
    const { strategy, reader } = await setUp(1);
    for (const after of [-1, 1.5]) {
      const error = await rejectionOf(collect(reader.read({ after })));
      expect((error as ValidationError).field).toBe('after');
    }
    expect(await rejectionOf(collect(reader.read({ pageSize: 0 })))).toBeInstanceOf(ValidationError);
    const noMapper = new NotificationLogReader(strategy);
    expect(((await rejectionOf(collect(noMapper.readEvents()))) as ValidationError).field).toBe('mapper');
    expect(await collect(noMapper.read())).toHaveLength(1);
  });
});
