import {
  Aggregate,
  Application,
  type EventOf,
  StoreClosedError,
  TimestampedVersionedEntity,
  memoryStore,
  registerEntity,
} from '../src/index.js';
import { InFlight } from '../src/backend.js';

type TallyEvents = { Started: { label: string }; Added: { n: number } };
class Tally extends Aggregate<TallyEvents> {
  static readonly topic = 'test.lifecycle.Tally';
  total = 0;
  add(n: number): void {
    this.trigger('Added', { n });
  }
  protected apply(event: EventOf<TallyEvents>): void {
    if (event.type === 'Added') this.total += event.n;
  }
}

class Memo extends TimestampedVersionedEntity<{ text: string }> {
  set text(value: string) {
    this.changeAttribute('text', value);
  }
}
registerEntity('test.lifecycle.Memo', Memo);

describe('a closed application', () => {
  it('refuses every use with StoreClosedError, and a loaded entity cannot record an event it would lose', async () => {
    const store = memoryStore();
    const app = await Application.open({ store, aggregates: [Tally] });
    const tally = Tally.create('Started', { label: 't' });
    await app.save(tally);
    const memo = app.create(Memo, { text: 'a' });
    memo.text = 'b';
    const closing = app.close();
    expect(app.closed).toBe(true);

    await expect(app.get(Tally, tally.id)).rejects.toBeInstanceOf(StoreClosedError);
    await expect(app.save(Tally.create('Started', { label: 'u' }))).rejects.toBeInstanceOf(StoreClosedError);
    await expect(app.handle(Tally, tally.id, (t) => t.add(1))).rejects.toBeInstanceOf(StoreClosedError);
    expect(() => app.create(Memo, { text: 'c' })).toThrow(StoreClosedError);
    expect(() => app.repository(Memo)).toThrow(StoreClosedError);
    expect(() => {
      memo.text = 'after close';
    }).toThrow(/application .* is closed/);
    await closing;

    // Everything recorded before close() was stored, in order; nothing after it.
    const items = await store.events.getItems(memo.id);
    expect(items.map((i) => i.topic)).toEqual([
      'test.lifecycle.Memo.Created',
      'test.lifecycle.Memo.AttributeChanged',
    ]);
  });

  it('is an async disposable: `await using` closes it, and the store with it', async () => {
    let storeClosed = false;
    const store = { ...memoryStore(), close: async () => void (storeClosed = true) };
    {
      await using app = await Application.open({ store });
      app.create(Memo, { text: 'x' });
    }
    expect(storeClosed).toBe(true);
  });
});

describe('an application closing with followers', () => {
  it('stops the subscriptions and projection runners it made, and refuses new ones', async () => {
    const app = await Application.open({ store: memoryStore(), aggregates: [Tally] });
    const tally = Tally.create('Started', { label: 'followed' });
    tally.add(2);
    await app.save(tally);
    // A subscription that polls every 10 minutes: only a stop ends its wait for the next notification.
    const subscription = app.subscribe({ pollIntervalMs: 10 * 60_000 });
    const seen: number[] = [];
    const following = (async () => {
      for await (const { id } of subscription) seen.push(id);
    })();
    await subscription.whenCaughtUp();
    let handled = 0;
    const runner = app
      .projection(
        { name: 'lifecycle-count', process: () => void (handled += 1) },
        { pollIntervalMs: 10 * 60_000 },
      )
      .start();
    await runner.whenCaughtUp();
    await app.close();
    await following; // ended by the close: before, it waited for a poll ten minutes away
    expect(subscription.stopped).toBe(true);
    expect(seen).toEqual([1, 2]);
    expect(handled).toBe(2);
    expect(() => app.subscribe()).toThrow(StoreClosedError);
    expect(() => app.projection({ name: 'late', process: () => undefined })).toThrow(StoreClosedError);
  });
});

describe('InFlight', () => {
  it('lets running operations, and those queued right behind them, finish before it releases', async () => {
    const inFlight = new InFlight(() => 'the test store');
    const done: number[] = [];
    let released = false;
    // A chain like a queue of writes: each starts a few microtasks after the previous one settles.
    let chain = Promise.resolve();
    for (let i = 0; i < 5; i++) {
      chain = chain.then(() =>
        inFlight.run(async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          done.push(i);
        }),
      );
    }
    await inFlight.close(async () => void (released = true));
    expect(done).toEqual([0, 1, 2, 3, 4]);
    expect(released).toBe(true);
    await expect(inFlight.run(async () => 1)).rejects.toThrow('the test store is closed');
    expect(() => inFlight.check()).toThrow(StoreClosedError);
  });

  it('starts an operation at once; a throw in it is its rejection, and close still waits for the rest', async () => {
    const inFlight = new InFlight(() => 'x');
    let started = false;
    let finish!: () => void;
    const running = inFlight.run(async () => {
      started = true;
      await new Promise<void>((resolve) => (finish = resolve));
    });
    expect(started).toBe(true);
    await expect(
      inFlight.run(() => {
        throw new Error('thrown before any promise');
      }),
    ).rejects.toThrow('thrown before any promise');
    let released = false;
    const closing = inFlight.close(async () => void (released = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(false);
    finish();
    await Promise.all([running, closing]);
    expect(released).toBe(true);
  });

  it('releases once, however often it is closed', async () => {
    const inFlight = new InFlight(() => 'x');
    let releases = 0;
    await Promise.all([
      inFlight.close(async () => void releases++),
      inFlight.close(async () => void releases++),
    ]);
    expect(releases).toBe(1);
  });
});
