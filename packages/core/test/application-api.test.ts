import {
  Aggregate,
  Application,
  ConcurrencyError,
  type EventOf,
  EventPublisher,
  SettingsError,
  TimestampedVersionedEntity,
  memoryStore,
  openStore,
  registerEntity,
  storeUrl,
} from '../src/index.js';

type CounterEvents = { Started: { label: string }; Incremented: { by: number } };
class Counter extends Aggregate<CounterEvents> {
  static readonly topic = 'test.api.Counter';
  label = '';
  count = 0;
  increment(by = 1): void {
    this.trigger('Incremented', { by });
  }
  protected apply(event: EventOf<CounterEvents>): void {
    if (event.type === 'Started') this.label = event.label;
    else this.count += event.by;
  }
}

class Note extends TimestampedVersionedEntity<{ text: string }> {
  get text(): string {
    return this.getAttribute('text');
  }
  set text(value: string) {
    this.changeAttribute('text', value);
  }
}
registerEntity('test.api.Note', Note);

describe('Application.open', () => {
  it('opens a store from a URL, saves aggregates and reads them back typed', async () => {
    await using app = await Application.open({ store: 'memory:', aggregates: [Counter] });
    const counter = Counter.create('Started', { label: 'visits' });
    counter.increment();
    counter.increment(2);
    await app.save(counter);
    const copy = await app.get(Counter, counter.id);
    expect([copy.label, copy.count, copy.version]).toEqual(['visits', 3, 3]);
    const log = [];
    for await (const { event } of app.notificationLog!.readEvents())
      log.push((event as unknown as { type: string }).type);
    expect(log).toEqual(['Started', 'Incremented', 'Incremented']);
  });

  it('reads its URL from ES_URL, else a SQLite file', () => {
    expect(storeUrl({})).toBe('sqlite:./es.sqlite');
    expect(storeUrl({ ES_URL: 'postgres://u@h/db' })).toBe('postgres://u@h/db');
  });

  it('refuses an unknown scheme with a SettingsError that lists the known ones', async () => {
    await expect(openStore('redis://h')).rejects.toThrow(SettingsError);
    await expect(openStore('redis://h')).rejects.toThrow(/memory:, sqlite:, postgres:/);
  });

  it('closes the store it opened', async () => {
    const store = memoryStore();
    let closed = 0;
    const app = await Application.open({ store: { ...store, close: async () => void closed++ } });
    await app.close();
    await app.close();
    expect(closed).toBe(1);
  });
});

describe('application isolation', () => {
  it('two applications in one process never store each other’s events', async () => {
    await using first = await Application.open({ store: 'memory:' });
    await using second = await Application.open({ store: 'memory:' });
    const a = first.create(Note, { text: 'first' });
    const b = second.create(Note, { text: 'second' });
    a.text = 'first, changed';
    expect((await first.get(Note, a.id)).text).toBe('first, changed');
    expect(await first.repository(Note).has(b.id)).toBe(false);
    expect(await second.repository(Note).has(a.id)).toBe(false);
    expect(await second.notificationLog!.maxNotificationId()).toBe(1);
  });

  it('an entity loaded by an application publishes its changes to that application', async () => {
    await using app = await Application.open({ store: 'memory:' });
    const note = app.create(Note, { text: 'a' });
    const loaded = await app.get(Note, note.id);
    loaded.text = 'b';
    expect((await app.get(Note, note.id)).text).toBe('b');
  });

  it('the publisher option is used: entities publishing there are stored', async () => {
    const publisher = new EventPublisher();
    await using app = new Application({ store: memoryStore(), publisher });
    const note = Note.create({ text: 'a' }, { publisher });
    expect((await app.get(Note, note.id)).text).toBe('a');
  });
});

describe('Application.handle', () => {
  it('loads, runs the command, saves; the events carry the command id as correlation and causation', async () => {
    await using app = await Application.open({ store: 'memory:', aggregates: [Counter] });
    const counter = Counter.create('Started', { label: 'x' });
    await app.save(counter);
    const result = await app.handle(Counter, counter.id, (c) => c.increment(5), { commandId: 'cmd-1' });
    expect(result.count).toBe(5);
    const events = await app.eventStore.getDomainEvents(counter.id);
    expect(events[1]).toMatchObject({ correlationId: 'cmd-1', causationId: 'cmd-1', by: 5 });
  });

  it('retries a command that lost a race, from a fresh load, and gives up after `retries`', async () => {
    await using app = await Application.open({ store: 'memory:', aggregates: [Counter] });
    const counter = Counter.create('Started', { label: 'x' });
    await app.save(counter);
    let runs = 0;
    // Each run lets another writer save first, once: the first attempt loses, the second wins.
    const result = await app.handle(Counter, counter.id, async (c) => {
      runs += 1;
      if (runs === 1) await app.handle(Counter, counter.id, (other) => other.increment(10));
      c.increment(1);
    });
    expect(runs).toBe(2);
    expect(result.count).toBe(11);
    let attempts = 0;
    await expect(
      app.handle(
        Counter,
        counter.id,
        async (c) => {
          attempts += 1;
          await app.handle(Counter, counter.id, (other) => other.increment(1));
          c.increment(1);
        },
        { retries: 2 },
      ),
    ).rejects.toThrow(ConcurrencyError);
    expect(attempts).toBe(3);
  });
});
