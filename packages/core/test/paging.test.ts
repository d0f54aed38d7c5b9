import {
  type ApplicationRecorder,
  DomainEvent,
  EventStore,
  type Notification,
  NotificationLogReader,
  SequencedItem,
  SequencedItemMapper,
  ValidationError,
  registerTopic,
} from '../src/index.js';
import { ActiveRecordStrategy, type NormalizedQuery } from '../src/backend.js';
import { uuid } from './fixtures.js';

/** A backend whose reads the test answers: each `select` waits until the test settles it. */
class ScriptedBackend extends ActiveRecordStrategy {
  readonly reads: { query: NormalizedQuery; answer(items: SequencedItem[]): void; fail(e: Error): void }[] =
    [];

  protected async insert(): Promise<void> {}
  protected async selectSequenceIds(): Promise<string[]> {
    return [];
  }
  protected select(sequenceId: string, query: NormalizedQuery): Promise<SequencedItem[]> {
    return new Promise((answer, fail) => this.reads.push({ query, answer, fail }));
  }
}

const items = (id: string, from: number, count: number): SequencedItem[] =>
  Array.from({ length: count }, (_, i) => new SequencedItem(id, from + i, 't', '{}'));

/** Lets every pending callback and microtask run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('reading a sequence a page at a time', () => {
  it("takes the strategy's pageSize when the read names none (1,000 unless set), and refuses a bad one", async () => {
    expect(new ScriptedBackend().pageSize).toBe(1000);
    const backend = new ScriptedBackend({ pageSize: 2 });
    const id = uuid();
    const pages = backend.iteratePages(id)[Symbol.asyncIterator]();
    const first = pages.next();
    await settle();
    expect(backend.reads[0]!.query.limit).toBe(2);
    backend.reads[0]!.answer(items(id, 0, 1));
    expect((await first).value).toHaveLength(1);
    for (const pageSize of [0, -1, 1.5, NaN])
      expect(() => new ScriptedBackend({ pageSize })).toThrow(ValidationError);
  });

  it("starts reading the next page before handing over a full one, from the page's last position", async () => {
    const backend = new ScriptedBackend();
    const id = uuid();
    const pages = backend.iteratePages(id, { pageSize: 3 })[Symbol.asyncIterator]();
    const first = pages.next();
    await settle();
    expect(backend.reads).toHaveLength(1);
    backend.reads[0]!.answer(items(id, 0, 3));
    expect((await first).value.map((i: SequencedItem) => i.position)).toEqual([0, 1, 2]);
    // The caller has the first page and has not asked for more: the second read is already out.
    expect(backend.reads).toHaveLength(2);
    expect(backend.reads[1]!.query).toMatchObject({ lower: 2, lowerInclusive: false, limit: 3 });
    backend.reads[1]!.answer(items(id, 3, 1));
    expect((await pages.next()).value.map((i: SequencedItem) => i.position)).toEqual([3]);
    // A short page is the last: nothing more is read.
    expect((await pages.next()).done).toBe(true);
    expect(backend.reads).toHaveLength(2);
  });

  it('reads ahead descending too, and never past the limit', async () => {
    const backend = new ScriptedBackend();
    const id = uuid();
    const query = { pageSize: 2, limit: 4, descending: true };
    const pages = backend.iteratePages(id, query)[Symbol.asyncIterator]();
    const first = pages.next();
    await settle();
    backend.reads[0]!.answer(items(id, 8, 2).reverse());
    await first;
    expect(backend.reads[1]!.query).toMatchObject({ upper: 8, upperInclusive: false, limit: 2 });
    backend.reads[1]!.answer(items(id, 6, 2).reverse());
    expect((await pages.next()).value.map((i: SequencedItem) => i.position)).toEqual([7, 6]);
    // The limit is reached with a full page: no read ahead.
    expect((await pages.next()).done).toBe(true);
    expect(backend.reads).toHaveLength(2);
  });

  it('a read ahead that fails fails the iteration where it is reached, and no process while unread', async () => {
    await withUnhandledRejections(async (unhandled) => {
      const backend = new ScriptedBackend();
      const id = uuid();
      const pages = backend.iteratePages(id, { pageSize: 2 })[Symbol.asyncIterator]();
      const first = pages.next();
      await settle();
      backend.reads[0]!.answer(items(id, 0, 2));
      await first;
      backend.reads[1]!.fail(new Error('connection lost'));
      await settle();
      expect(unhandled).toEqual([]);
      await expect(pages.next()).rejects.toThrow('connection lost');

      // A caller that stops after the first page never hears of the read ahead's failure.
      const stopped = backend.iteratePages(id, { pageSize: 2 })[Symbol.asyncIterator]();
      const page = stopped.next();
      await settle();
      backend.reads[2]!.answer(items(id, 0, 2));
      await page;
      await stopped.return?.();
      backend.reads[3]!.fail(new Error('lost after the caller left'));
      await settle();
      expect(unhandled).toEqual([]);
    });
  });
});

class Counted extends DomainEvent {
  declare readonly originatorVersion: number;
}
registerTopic('test.paging.Counted', Counted);

const counted = (id: string, from: number, count: number): SequencedItem[] =>
  Array.from({ length: count }, (_, i) => new SequencedItem(id, from + i, 'test.paging.Counted', '{}'));

describe('replaying a sequence (EventStore.replayDomainEvents)', () => {
  const storeOver = (backend: ScriptedBackend) =>
    new EventStore<Counted>({
      activeRecordStrategy: backend,
      sequencedItemMapper: new SequencedItemMapper(),
    });

  it('reads a short sequence with one read, and hands it over whole', async () => {
    const backend = new ScriptedBackend();
    const id = uuid();
    const replayed: number[][] = [];
    const done = storeOver(backend).replayDomainEvents(id, { gte: 4, pageSize: 3 }, (events) =>
      replayed.push(events.map((e) => e.originatorVersion)),
    );
    await settle();
    expect(backend.reads.map((r) => r.query)).toEqual([
      { lower: 4, lowerInclusive: true, upper: Infinity, upperInclusive: true, limit: 3, descending: false },
    ]);
    backend.reads[0]!.answer(counted(id, 4, 2));
    await done;
    expect(replayed).toEqual([[4, 5]]);
    expect(backend.reads).toHaveLength(1);
  });

  it('goes on after a full first page, whose next read starts before the first page is replayed', async () => {
    const backend = new ScriptedBackend();
    const id = uuid();
    const replayed: number[][] = [];
    const readsWhenReplayed: number[] = [];
    const done = storeOver(backend).replayDomainEvents(id, { lt: 9, pageSize: 2 }, (events) => {
      readsWhenReplayed.push(backend.reads.length);
      replayed.push(events.map((e) => e.originatorVersion));
    });
    await settle();
    backend.reads[0]!.answer(counted(id, 0, 2));
    await settle();
    expect(readsWhenReplayed).toEqual([2]);
    expect(backend.reads[1]!.query).toMatchObject({ lower: 1, lowerInclusive: false, upper: 9, limit: 2 });
    backend.reads[1]!.answer(counted(id, 2, 2));
    await settle();
    backend.reads[2]!.answer(counted(id, 4, 1));
    await done;
    expect(replayed).toEqual([[0, 1], [2, 3], [4]]);
    expect(backend.reads).toHaveLength(3);
  });

  it('stops where replay throws, with its error, and a read ahead failing then is no unhandled rejection', async () => {
    await withUnhandledRejections(async (unhandled) => {
      const backend = new ScriptedBackend();
      const id = uuid();
      const done = storeOver(backend).replayDomainEvents(id, { pageSize: 2 }, () => {
        throw new Error('replay failed');
      });
      await settle();
      backend.reads[0]!.answer(counted(id, 0, 2));
      await settle();
      backend.reads[1]!.fail(new Error('connection lost'));
      await expect(done).rejects.toThrow('replay failed');
      await settle();
      expect(unhandled).toEqual([]);
    });
  });

  it('refuses a page size that is not a positive integer, before reading', async () => {
    const backend = new ScriptedBackend();
    const store = storeOver(backend);
    await expect(store.replayDomainEvents(uuid(), { pageSize: 0 }, () => {})).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(backend.reads).toHaveLength(0);
  });
});

describe('reading the notification log a page at a time', () => {
  it('starts reading the next page before handing over a full one, after its last id', async () => {
    const reads: { start: number; limit: number; answer(page: Notification[]): void }[] = [];
    const recorder = {
      supportsNotifications: true,
      selectNotifications: (start: number, limit: number) =>
        new Promise<Notification[]>((answer) => reads.push({ start, limit, answer })),
      maxNotificationId: async () => 0,
    } as unknown as ApplicationRecorder;
    const note = (id: number): Notification => ({
      id,
      sequenceId: uuid(),
      position: 0,
      topic: 't',
      data: '{}',
    });
    const reader = new NotificationLogReader(recorder);
    const pages = reader.readPages({ after: 10, pageSize: 2 })[Symbol.asyncIterator]();
    const first = pages.next();
    await settle();
    expect(reads.map(({ start, limit }) => [start, limit])).toEqual([[11, 2]]);
    // Ids need not be contiguous: the next read starts after the page's last one.
    reads[0]!.answer([note(11), note(14)]);
    expect((await first).value.map((n: Notification) => n.id)).toEqual([11, 14]);
    expect(reads.map(({ start }) => start)).toEqual([11, 15]);
    reads[1]!.answer([note(15)]);
    expect((await pages.next()).value.map((n: Notification) => n.id)).toEqual([15]);
    expect((await pages.next()).done).toBe(true);
    expect(reads).toHaveLength(2);
  });
});

/** Runs `test` with the process's unhandled rejections collected in the array it is given. */
async function withUnhandledRejections(test: (unhandled: unknown[]) => Promise<void>): Promise<void> {
  const unhandled: unknown[] = [];
  const listener = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await test(unhandled);
  } finally {
    process.off('unhandledRejection', listener);
  }
}
