import { randomUUID } from 'node:crypto';
import {
  Aggregate,
  Application,
  type ApplicationRecorder,
  type EventOf,
  InMemoryActiveRecordStrategy,
  NotSupportedError,
  SequencedItem,
  SequencedItemMapper,
  Subscription,
  UnknownTopicError,
  ValidationError,
  memoryStore,
} from '../src/index.js';

type TallyEvents = { Opened: { label: string }; Added: { n: number } };
class Tally extends Aggregate<TallyEvents> {
  static readonly topic = 'test.subscription.Tally';
  total = 0;
  add(n: number): void {
    this.trigger('Added', { n });
  }
  protected apply(event: EventOf<TallyEvents>): void {
    if (event.type === 'Added') this.total += event.n;
  }
}

/** The store's log without its append signal: what a follower in another process sees (it polls). */
function withoutSignal(store: InMemoryActiveRecordStrategy, reads: { count: number }): ApplicationRecorder {
  return {
    supportsNotifications: true,
    positionKind: store.positionKind,
    sequenceIdKind: store.sequenceIdKind,
    append: (items) => store.append(items),
    getItem: (id, p) => store.getItem(id, p),
    getItems: (id, q) => store.getItems(id, q),
    iterateItems: (id, q) => store.iterateItems(id, q),
    iteratePages: (id, q) => store.iteratePages(id, q),
    listSequenceIds: () => store.listSequenceIds(),
    close: () => store.close(),
    selectNotifications: (start, limit, query) => {
      reads.count += 1;
      return store.selectNotifications(start, limit, query);
    },
    maxNotificationId: () => store.maxNotificationId(),
  };
}

describe('Subscription', () => {
  it('over an application: typed events with their ids, live after catching up', async () => {
    await using app = await Application.open({ store: memoryStore(), aggregates: [Tally] });
    const tally = Tally.create('Opened', { label: 'a' });
    tally.add(2);
    await app.save(tally);
    await using subscription = app.subscribe<EventOf<TallyEvents>>();
    const seen: string[] = [];
    for await (const { id, event } of subscription) {
      seen.push(`${id}:${event.type}`);
      if (event.type === 'Added' && event.n === 3) break;
      if (seen.length === 2) {
        tally.add(3);
        await app.save(tally);
      }
    }
    expect(seen).toEqual(['1:Opened', '2:Added', '3:Added']);
    expect(subscription.position).toBe(3);
  });

  it('polls a log that gives no signal, backing off while nothing comes, and sees what another writer appended', async () => {
    // Fake timers: the waits are the subscription's own, counted exactly whatever the machine's load.
    jest.useFakeTimers();
    try {
      const store = new InMemoryActiveRecordStrategy();
      const reads = { count: 0 };
      const mapper = new SequencedItemMapper();
      const subscription = new Subscription(withoutSignal(store, reads), mapper, {
        pollIntervalMs: 10,
        maxPollIntervalMs: 80,
      });
      const iterator = subscription[Symbol.asyncIterator]();
      const next = iterator.next();
      await jest.advanceTimersByTimeAsync(0);
      await subscription.whenCaughtUp();
      const caughtUpReads = reads.count;
      await jest.advanceTimersByTimeAsync(400);
      // Waits of 10, 20, 40, 80, 80, 80, 80 ms fit in 400 ms: 7 polls; without backoff there would be 40.
      expect(reads.count - caughtUpReads).toBeGreaterThanOrEqual(5);
      expect(reads.count - caughtUpReads).toBeLessThanOrEqual(8);
      const tally = Tally.create('Opened', { label: 'b' });
      await new Application({ activeRecordStrategy: store, aggregates: [Tally] }).save(tally);
      // Found by the next poll, at most the longest wait away.
      await jest.advanceTimersByTimeAsync(80);
      const { value } = await next;
      expect(value!.id).toBe(1);
      await subscription[Symbol.asyncDispose]();
    } finally {
      jest.useRealTimers();
    }
  });

  it('surfaces a failed read: the iteration rejects with the error, it does not stop silently', async () => {
    const store = new InMemoryActiveRecordStrategy();
    const failure = new Error('the connection is gone');
    const failing = withoutSignal(store, { count: 0 });
    const subscription = new Subscription(
      { ...failing, selectNotifications: () => Promise.reject(failure) },
      new SequencedItemMapper(),
    );
    await expect(subscription[Symbol.asyncIterator]().next()).rejects.toBe(failure);
    expect(subscription.stopped).toBe(true);
  });

  it('surfaces an event it cannot decode, with the checkpoint before it', async () => {
    const store = new InMemoryActiveRecordStrategy();
    await store.append(new SequencedItem(randomUUID(), 0, 'test.subscription.NoSuchTopic', '{}'));
    const subscription = new Subscription(store, new SequencedItemMapper());
    await expect(subscription[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(UnknownTopicError);
    expect(subscription.position).toBe(0);
  });

  it('refuses bad options, a store without a log, and a second iteration', async () => {
    const store = new InMemoryActiveRecordStrategy();
    const mapper = new SequencedItemMapper();
    for (const bad of [
      { after: -1 },
      { after: 1.5 },
      { pageSize: 0 },
      { pollIntervalMs: -1 },
      { pollIntervalMs: 10, maxPollIntervalMs: 5 },
    ]) {
      expect(() => new Subscription(store, mapper, bad)).toThrow(ValidationError);
    }
    expect(() => new Subscription({} as never, mapper)).toThrow(NotSupportedError);
    const subscription = new Subscription(store, mapper);
    subscription.stop();
    expect((await subscription[Symbol.asyncIterator]().next()).done).toBe(true);
    await expect(subscription[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(ValidationError);
  });
});
