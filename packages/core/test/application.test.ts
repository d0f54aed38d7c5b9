import {
  AesGcmCipher,
  Application,
  ConcurrencyError,
  EntityEvent,
  InMemoryActiveRecordStrategy,
  NotFoundError,
  SnapshotStrategy,
  StoreConnectionError,
  ValidationError,
  type SequencedItem,
} from '../src/index.js';
import {
  Note,
  Widget,
  createNote,
  createWidget,
  notePublisher,
  rejectionOf,
  uuid,
  widgetPublisher,
} from './fixtures.js';

function newApp(options: { onClose?: () => Promise<void>; snapshots?: boolean } = {}) {
  const strategy = new InMemoryActiveRecordStrategy();
  const snapshots = new InMemoryActiveRecordStrategy({ contiguous: false });
  const app = new Application({
    activeRecordStrategy: strategy,
    ...(options.snapshots ? { snapshotActiveRecordStrategy: snapshots } : {}),
    publisher: widgetPublisher,
    ...(options.onClose ? { onClose: options.onClose } : {}),
  });
  return { app, strategy, snapshots };
}

describe('Application', () => {
  it('stores entity events and rebuilds entities through its repository', async () => {
    const { app } = newApp();
    try {
      const repository = app.repository<Widget>(Widget.mutate);
      const widget = createWidget('a');
      widget.foo = 'b';
      expect((await repository.get(widget.id)).foo).toBe('b');
      widget.discard();
      expect(await repository.has(widget.id)).toBe(false);
      const log = [];
      for await (const { event } of app.notificationLog.readEvents()) log.push(event.constructor);
      expect(log).toEqual([Widget.Created, Widget.AttributeChanged, Widget.Discarded]);
      expect(app.snapshotStrategy).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('flush waits for queued writes and rethrows a failure', async () => {
    const { app, strategy } = newApp();
    try {
      const repository = app.repository<Widget>(Widget.mutate);
      const widget = createWidget('a');
      const twin = await repository.get(widget.id);
      widget.foo = 'b';
      await app.flush();
      expect(await strategy.getItems(widget.id)).toHaveLength(2);
      twin.foo = 'c';
      expect(await rejectionOf(app.flush())).toBeInstanceOf(ConcurrencyError);
      await expect(app.flush()).resolves.toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('close flushes, stops persisting, calls onClose once, and is idempotent', async () => {
    const calls: string[] = [];
    const { app, strategy } = newApp({ onClose: async () => void calls.push('onClose') });
    const widget = createWidget('a');
    widget.foo = 'b';
    await app.close();
    expect(await strategy.getItems(widget.id)).toHaveLength(2);
    expect(calls).toEqual(['onClose']);
    widget.foo = 'c'; // no longer persisted
    await app.close();
    await app.eventStore.flush();
    expect(calls).toEqual(['onClose']);
    expect(await strategy.getItems(widget.id)).toHaveLength(2);
  });

  it('a second close while the first is in flight waits for it', async () => {
    let closed = 0;
    const { app } = newApp({
      onClose: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        closed += 1;
      },
    });
    const first = app.close();
    await app.close();
    expect(closed).toBe(1);
    await first;
    expect(closed).toBe(1);
  });

  it('close rethrows a failed write, and still calls onClose', async () => {
    let closed = 0;
    const { app } = newApp({ onClose: async () => void (closed += 1) });
    const widget = createWidget('a');
    const twin = await app.repository<Widget>(Widget.mutate).get(widget.id);
    widget.foo = 'b';
    twin.foo = 'c';
    expect(await rejectionOf(app.close())).toBeInstanceOf(ConcurrencyError);
    expect(closed).toBe(1);
    // Reported once: closing again resolves.
    await expect(app.close()).resolves.toBeUndefined();
    expect(closed).toBe(1);
  });

  it('Symbol.asyncDispose closes the application', async () => {
    let closed = 0;
    const { app, strategy } = newApp({ onClose: async () => void (closed += 1) });
    const widget = createWidget('a');
    await app[Symbol.asyncDispose]();
    expect(closed).toBe(1);
    expect(await strategy.getItems(widget.id)).toHaveLength(1);
    widget.foo = 'b';
    await app.eventStore.flush();
    expect(await strategy.getItems(widget.id)).toHaveLength(1);
  });

  it('`await using` closes the application at the end of the block', async () => {
    let closed = 0;
    let id: string;
    let strategy: InMemoryActiveRecordStrategy;
    {
      await using app = newApp({ onClose: async () => void (closed += 1) }).app;
      strategy = app.eventStore.activeRecordStrategy as InMemoryActiveRecordStrategy;
      const widget = createWidget('a');
      id = widget.id;
      expect(closed).toBe(0);
    }
    expect(closed).toBe(1);
    expect(await strategy.getItems(id)).toHaveLength(1);
  });

  it('uses snapshots when given a strategy for the snapshots table', async () => {
    const { app, snapshots } = newApp({ snapshots: true });
    try {
      const repository = app.repository<Widget>(Widget.mutate, { snapshotPeriod: 3 });
      const widget = createWidget('a');
      widget.foo = 'b';
      widget.foo = 'c';
      expect((await repository.get(widget.id)).foo).toBe('c');
      expect((await snapshots.getItems(widget.id)).map((i: SequencedItem) => i.position)).toEqual([3]);
      expect(app.snapshotStrategy).toBeInstanceOf(SnapshotStrategy);
    } finally {
      await app.close();
    }
  });

  it('passes mapper options: encrypted data at rest', async () => {
    const strategy = new InMemoryActiveRecordStrategy();
    const app = new Application({
      activeRecordStrategy: strategy,
      mapper: { cipher: new AesGcmCipher(AesGcmCipher.createKey()) },
      publisher: widgetPublisher,
    });
    try {
      const widget = createWidget('top secret');
      const loaded = await app.repository<Widget>(Widget.mutate).get(widget.id);
      expect(loaded.foo).toBe('top secret');
      const [item] = await strategy.getItems(widget.id);
      expect(item!.data).not.toContain('secret');
    } finally {
      await app.close();
    }
  });

  it('persists another event type when told to', async () => {
    const strategy = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' });
    const app = new Application({
      activeRecordStrategy: strategy,
      mapper: { positionAttrName: 'timestamp' },
      persistEventType: EntityEvent,
      publisher: notePublisher,
    });
    try {
      const note = createNote('hi');
      note.text = 'there';
      expect((await app.repository<Note>(Note.mutate).get(note.id)).text).toBe('there');
      await expect(app.repository<Note>(Note.mutate).get(uuid())).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await app.close();
    }
  });

  it('an onClose failure surfaces from close', async () => {
    const { app } = newApp({
      onClose: async () => {
        throw new StoreConnectionError('pool already gone');
      },
    });
    await expect(app.close()).rejects.toBeInstanceOf(StoreConnectionError);
  });

  it('refuses the old name of the snapshots option, which the repository uses for a SnapshotStrategy', () => {
    const options = {
      activeRecordStrategy: new InMemoryActiveRecordStrategy(),
      snapshotStrategy: new InMemoryActiveRecordStrategy(),
    };
    expect(() => new Application(options)).toThrow(ValidationError);
    expect(() => new Application(options)).toThrow(/snapshotActiveRecordStrategy/);
  });

  it('reports a failed write even when releasing resources fails too', async () => {
    const strategy = new InMemoryActiveRecordStrategy();
    const app = new Application({
      activeRecordStrategy: strategy,
      publisher: widgetPublisher,
      onClose: () => Promise.reject(new Error('pool already closed')),
    });
    const widget = createWidget('x');
    const stale = Widget.mutate(undefined, (await app.eventStore.getDomainEvents(widget.id))[0]!) as Widget;
    widget.foo = 'y';
    stale.foo = 'z'; // the same version: this write conflicts
    const error = await rejectionOf(app.close());
    expect(error).toBeInstanceOf(AggregateError);
    const [writeFailure, closeFailure] = (error as AggregateError).errors;
    expect((writeFailure as Error).name).toBe('ConcurrencyError');
    expect((closeFailure as Error).message).toBe('pool already closed');
  });
});
