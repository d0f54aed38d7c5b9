import {
  AesGcmCipher,
  DataIntegrityError,
  type DomainEvent,
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  NotSupportedError,
  type RowDecoder,
  type Snapshot,
  SequencedItem,
  SequencedItemMapper,
  SnapshotStrategy,
  UnknownTopicError,
} from '../src/index.js';
import { ActiveRecordStrategy, type NormalizedQuery, inRange } from '../src/backend.js';
import { Widget, uuid } from './fixtures.js';

type Row = [position: number, topic: string, data: string];

/** A backend that keeps rows (as SQL's reads return them) and reads them through items only. */
class RowsBackend extends ActiveRecordStrategy {
  readonly rows = new Map<string, Row[]>();
  /** Every read's query, and whether it made items (`select`) or decoded rows (`selectDecoded`). */
  readonly reads: { how: 'items' | 'decoded'; query: NormalizedQuery }[] = [];

  protected async insert(items: readonly SequencedItem[]): Promise<void> {
    const rows = this.rows.get(items[0]!.sequenceId) ?? [];
    for (const { position, topic, data } of items) rows.push([position, topic, data]);
    this.rows.set(items[0]!.sequenceId, rows);
  }
  protected async selectSequenceIds(): Promise<string[]> {
    return [...this.rows.keys()];
  }
  protected matching(sequenceId: string, query: NormalizedQuery): Row[] {
    const rows = (this.rows.get(sequenceId) ?? []).filter(([position]) => inRange(position, query));
    if (query.descending) rows.reverse();
    return rows.slice(0, query.limit ?? Infinity);
  }
  protected async select(sequenceId: string, query: NormalizedQuery): Promise<SequencedItem[]> {
    this.reads.push({ how: 'items', query });
    return this.matching(sequenceId, query).map(
      ([position, topic, data]) => new SequencedItem(sequenceId, position, topic, data),
    );
  }
}

/** The same rows, read straight into the caller's values. */
class DecodingBackend extends RowsBackend {
  protected override async selectDecoded<E>(
    sequenceId: string,
    query: NormalizedQuery,
    decode: RowDecoder<E>,
    page?: { last: number },
  ): Promise<E[]> {
    this.reads.push({ how: 'decoded', query });
    const rows = this.matching(sequenceId, query);
    if (page !== undefined && rows.length > 0) page.last = rows[rows.length - 1]![0];
    return rows.map(([position, topic, data]) => decode(sequenceId, position, topic, data));
  }
}

/** Both backends holding the same rows of `count` events of one Widget, with a store over each. */
async function pair(count: number, mapper = new SequencedItemMapper()) {
  const id = uuid();
  const plain = new RowsBackend({ pageSize: 4 });
  const decoding = new DecodingBackend({ pageSize: 4 });
  const events: DomainEvent[] = [new Widget.Created({ originatorId: id, originatorVersion: 0, foo: 'a' })];
  for (let v = 1; v < count; v++)
    events.push(
      new Widget.AttributeChanged({ originatorId: id, originatorVersion: v, name: 'foo', value: `v${v}` }),
    );
  const items = events.map((event) => mapper.toSequencedItem(event));
  await plain.append(items);
  await decoding.append(items);
  return {
    id,
    events,
    plain,
    decoding,
    before: new EventStore({ activeRecordStrategy: plain, sequencedItemMapper: mapper }),
    after: new EventStore({ activeRecordStrategy: decoding, sequencedItemMapper: mapper }),
  };
}

async function pagesOf<E>(pages: AsyncIterable<E[]>): Promise<E[][]> {
  const out: E[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

const versionsOf = (pages: DomainEvent[][]): number[][] =>
  pages.map((page) =>
    page.map((event) => (event as unknown as { originatorVersion: number }).originatorVersion),
  );

describe('a strategy that decodes rows straight into events', () => {
  it('gives the very events the item path gives (getDomainEvents, pages, the newest), and makes no item', async () => {
    const { id, events, decoding, before, after } = await pair(10);
    expect(decoding.decodesRows).toBe(true);
    const all = await after.getDomainEvents(id);
    expect(all).toEqual(await before.getDomainEvents(id));
    expect(all).toEqual(events);
    expect(
      all.every((event) => event instanceof Widget.AttributeChanged || event instanceof Widget.Created),
    ).toBe(true);
    expect(all.every((event) => Object.isFrozen(event))).toBe(true);
    for (const query of [{ gt: 2, lte: 7 }, { descending: true, limit: 3 }, { gte: 20 }, { lt: 0 }]) {
      expect(await after.getDomainEvents(id, query)).toEqual(await before.getDomainEvents(id, query));
    }
    expect(await after.getMostRecentEvent(id)).toEqual(events[9]);
    expect(await pagesOf(after.iterateDomainEventPages(id, { pageSize: 3 }))).toEqual(
      await pagesOf(before.iterateDomainEventPages(id, { pageSize: 3 })),
    );
    expect(decoding.reads.every((read) => read.how === 'decoded')).toBe(true);
  });

  it('reads page by page, each page at most pageSize rows, from the last position of the page before', async () => {
    const { id, decoding, after } = await pair(10);
    const pages = await pagesOf(after.iterateDomainEventPages(id, { pageSize: 3, gte: 1 }));
    expect(versionsOf(pages)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    // The read after the last full page finds nothing; no read asks for more than a page.
    expect(decoding.reads.map(({ query }) => [query.lower, query.lowerInclusive, query.limit])).toEqual([
      [1, true, 3],
      [3, false, 3],
      [6, false, 3],
      [9, false, 3],
    ]);
    decoding.reads.length = 0;
    const down = await pagesOf(
      after.iterateDomainEventPages(id, { pageSize: 4, descending: true, limit: 6 }),
    );
    expect(versionsOf(down)).toEqual([
      [9, 8, 7, 6],
      [5, 4],
    ]);
    expect(decoding.reads.map(({ query }) => [query.upper, query.upperInclusive, query.limit])).toEqual([
      [Infinity, true, 4],
      [6, false, 2],
    ]);
  });

  it("rebuilds an entity through a repository as the item path does, in the strategy's pages", async () => {
    const { id, decoding, before, after } = await pair(10);
    const old = await new EventSourcedRepository({ eventStore: before, entity: Widget }).get(id);
    const widget = await new EventSourcedRepository({ eventStore: after, entity: Widget }).get(id);
    expect(widget.version).toBe(10);
    expect(widget.foo).toBe('v9');
    expect(widget).toEqual(old);
    expect(decoding.reads.map(({ how, query }) => [how, query.limit])).toEqual([
      ['decoded', 4],
      ['decoded', 4],
      ['decoded', 4],
    ]);
    const at = await new EventSourcedRepository({ eventStore: after, entity: Widget }).get(id, {
      version: 5,
    });
    expect(at.foo).toBe('v4');
  });

  it('loads from a snapshot: the newest snapshot, then the events after it, decoded from rows', async () => {
    const { id, decoding, after } = await pair(10);
    const snapshotStore = new EventStore<Snapshot>({
      activeRecordStrategy: new InMemoryActiveRecordStrategy({ contiguous: false }),
      sequencedItemMapper: new SequencedItemMapper(),
    });
    const snapshotStrategy = new SnapshotStrategy({ snapshotStore });
    const repository = new EventSourcedRepository({ eventStore: after, entity: Widget, snapshotStrategy });
    await repository.takeSnapshot(id, { version: 7 });
    decoding.reads.length = 0;
    const widget = await repository.get(id);
    expect(widget.version).toBe(10);
    expect(widget.foo).toBe('v9');
    // Only the tail is read: from the snapshot's version on.
    expect(decoding.reads.map(({ how, query }) => [how, query.lower])).toEqual([['decoded', 7]]);
  });

  it('refuses bad rows with the errors the item path gives: unknown topic, bad data, a "__proto__" field', async () => {
    const { id, plain, decoding, before, after } = await pair(3);
    for (const backend of [plain, decoding]) {
      backend.rows.get(id)!.push([3, 'no.such.Topic', '{}']);
    }
    await expect(after.getDomainEvents(id)).rejects.toBeInstanceOf(UnknownTopicError);
    await expect(before.getDomainEvents(id)).rejects.toBeInstanceOf(UnknownTopicError);
    for (const data of ['{not json', '{"__proto__":{"x":1},"timestamp":1}']) {
      for (const backend of [plain, decoding])
        backend.rows.get(id)![3] = [3, 'test.Widget.AttributeChanged', data];
      await expect(pagesOf(after.iterateDomainEventPages(id))).rejects.toBeInstanceOf(DataIntegrityError);
      await expect(pagesOf(before.iterateDomainEventPages(id))).rejects.toBeInstanceOf(DataIntegrityError);
    }
  });

  it("decrypts with a cipher bound to each row's sequence id, position and topic", async () => {
    const mapper = new SequencedItemMapper({ cipher: new AesGcmCipher(AesGcmCipher.createKey()) });
    const { id, events, decoding, after } = await pair(4, mapper);
    expect(await after.getDomainEvents(id)).toEqual(events);
    const rows = decoding.rows.get(id)!;
    // Row 1's data moved to position 2; then row 3's topic changed: each is refused.
    rows[2] = [2, rows[2]![1], rows[1]![2]];
    await expect(after.getDomainEvents(id)).rejects.toThrow(/moved from another item/);
    await expect(after.getDomainEvents(id)).rejects.toBeInstanceOf(DataIntegrityError);
    const other = await pair(4, mapper);
    const [position, , data] = other.decoding.rows.get(other.id)![3]!;
    other.decoding.rows.get(other.id)![3] = [position, 'test.Widget.Discarded', data];
    await expect(other.after.getDomainEvents(other.id)).rejects.toBeInstanceOf(DataIntegrityError);
  });

  it("reads items when the mapper's decoding is a subclass's own (an upcaster sees every event)", async () => {
    class Upcasting extends SequencedItemMapper {
      seen = 0;
      override fromSequencedItem(item: SequencedItem): DomainEvent {
        this.seen++;
        return super.fromSequencedItem(item);
      }
    }
    const mapper = new Upcasting();
    expect(mapper.rowDecoder()).toBeUndefined();
    expect(new SequencedItemMapper().rowDecoder()).toBeInstanceOf(Function);
    const { id, decoding, after } = await pair(5, mapper);
    expect(await after.getDomainEvents(id)).toHaveLength(5);
    expect(await pagesOf(after.iterateDomainEventPages(id, { pageSize: 2 }))).toHaveLength(3);
    expect(mapper.seen).toBe(10);
    expect(decoding.reads.every((read) => read.how === 'items')).toBe(true);
  });

  it('is a capability: strategies without it (in memory, third parties) read items, and refuse decoded reads', async () => {
    const { id, plain, before } = await pair(3);
    expect(plain.decodesRows).toBe(false);
    expect(new InMemoryActiveRecordStrategy().decodesRows).toBe(false);
    expect(await before.getDomainEvents(id)).toHaveLength(3);
    expect(plain.reads.every((read) => read.how === 'items')).toBe(true);
    const decode: RowDecoder<number> = (_s, position) => position;
    await expect(plain.getDecoded(id, {}, decode)).rejects.toBeInstanceOf(NotSupportedError);
    await expect(pagesOf(plain.iterateDecodedPages(id, {}, decode))).rejects.toBeInstanceOf(
      NotSupportedError,
    );
  });
});
