import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  ConcurrencyError,
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  NotFoundError,
  PersistencePolicy,
  SequencedItem,
  SequencedItemMapper,
  UnknownTopicError,
  VersionedEntityEvent,
  type DomainEvent,
} from '../src/index.js';
import {
  Widget,
  createWidget,
  deferred,
  nextMacrotask,
  rejectionOf,
  uuid,
  widgetPublisher,
} from './fixtures.js';

/** The in-memory strategy with a gate (or a random delay) in front of each append. */
class SlowStrategy extends InMemoryActiveRecordStrategy {
  gate: Promise<void> | undefined;
  appends = 0;
  protected override async insert(items: readonly SequencedItem[]): Promise<void> {
    this.appends += 1;
    if (this.gate) await this.gate;
    else await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    return super.insert(items);
  }
}

function setUp(strategy = new SlowStrategy()) {
  const eventStore = new EventStore({
    activeRecordStrategy: strategy,
    sequencedItemMapper: new SequencedItemMapper(),
  });
  const repository = new EventSourcedRepository<Widget>({ eventStore, mutator: Widget.mutate });
  const policy = new PersistencePolicy(eventStore, {
    eventType: VersionedEntityEvent,
    publisher: widgetPublisher,
  });
  return { strategy, eventStore, repository, policy };
}

describe('EventStore', () => {
  it('appends and reads events, one at a time or by range', async () => {
    const { eventStore, policy } = setUp(new SlowStrategy());
    await policy.close();
    const id = uuid();
    const events = [0, 1, 2, 3].map((v) =>
      v === 0
        ? new Widget.Created({ originatorId: id, originatorVersion: 0, foo: 'a' })
        : new Widget.AttributeChanged({
            originatorId: id,
            originatorVersion: v,
            name: 'foo',
            value: `v${v}`,
          }),
    );
    await eventStore.append(events[0]!);
    await eventStore.append(events.slice(1));
    expect(await eventStore.getDomainEvents(id)).toEqual(events);
    expect(await eventStore.getDomainEvents(id, { gte: 2 })).toEqual(events.slice(2));
    expect(await eventStore.getDomainEvent(id, 1)).toEqual(events[1]);
    expect(await eventStore.getMostRecentEvent(id)).toEqual(events[3]);
    expect(await eventStore.getMostRecentEvent(id, { lt: 3 })).toEqual(events[2]);
    expect(await eventStore.getMostRecentEvent(id, { lte: 3 })).toEqual(events[3]);
    expect(await eventStore.getMostRecentEvent(uuid())).toBeUndefined();
    const iterated: DomainEvent[] = [];
    for await (const e of eventStore.iterateDomainEvents(id, { pageSize: 3 })) iterated.push(e);
    expect(iterated).toEqual(events);
    expect(await eventStore.listSequenceIds()).toEqual([id]);
    await expect(eventStore.getDomainEvent(id, 9)).rejects.toBeInstanceOf(NotFoundError);
    await expect(eventStore.append(events[3]!)).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(eventStore.close()).resolves.toBeUndefined();
  });

  it('enqueue maps at once: a bad event throws there, and an empty list does nothing', async () => {
    const { eventStore, strategy, policy } = setUp();
    await policy.close();
    class Unregistered extends VersionedEntityEvent {}
    expect(() =>
      eventStore.enqueue(new Unregistered({ originatorId: uuid(), originatorVersion: 0 })),
    ).toThrow(UnknownTopicError);
    eventStore.enqueue([]);
    await eventStore.flush();
    expect(strategy.appends).toBe(0);
  });

  it('writes started by synchronous setters land in order', async () => {
    const { repository, strategy, policy } = setUp();
    try {
      const widget = createWidget('v0');
      for (let i = 1; i <= 20; i++) widget.foo = `v${i}`;
      const loaded = await repository.get(widget.id);
      expect(loaded.foo).toBe('v20');
      expect(loaded.version).toBe(21);
      const items = await strategy.getItems(widget.id);
      expect(items.map((i) => i.position)).toEqual(Array.from({ length: 21 }, (_, i) => i));
      expect(strategy.appends).toBe(21);
    } finally {
      await policy.close();
    }
  });

  it('a read of an entity waits for its queued writes', async () => {
    const strategy = new SlowStrategy();
    const gate = deferred();
    strategy.gate = gate.promise;
    const { repository, policy } = setUp(strategy);
    try {
      const widget = createWidget('a');
      widget.foo = 'b';
      let loaded: Widget | undefined;
      const read = repository.get(widget.id).then((w) => (loaded = w));
      await nextMacrotask();
      expect(loaded).toBeUndefined();
      // Nothing is stored yet: the write is held at the gate.
      expect(await strategy.getItems(widget.id)).toEqual([]);
      gate.resolve();
      await read;
      expect(loaded!.foo).toBe('b');
      expect(loaded!.version).toBe(2);
    } finally {
      await policy.close();
    }
  });

  describe('a failed background write (two instances of one entity at the same version)', () => {
    async function conflict() {
      const setup = setUp();
      const a = createWidget('start');
      const b = await setup.repository.get(a.id);
      a.foo = 'from a'; // version 1: stored
      b.foo = 'from b'; // version 1 again: ConcurrencyError
      b.foo = 'from b again'; // abandoned
      a.foo = 'a again'; // abandoned: it was queued after the failure
      return { ...setup, id: a.id };
    }

    it('surfaces on the next read of that entity, once, with its type and the abandoned count', async () => {
      const { repository, strategy, policy, id } = await conflict();
      try {
        await nextMacrotask();
        const error = await rejectionOf(repository.get(id));
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect((error as ConcurrencyError).sequenceId).toBe(id);
        expect((error as ConcurrencyError).position).toBe(1);
        expect((error as { abandonedWrites?: number }).abandonedWrites).toBe(2);
        // Exactly once: the next read succeeds and shows what was stored.
        const loaded = await repository.get(id);
        expect(loaded.foo).toBe('from a');
        expect(loaded.version).toBe(2);
        expect((await strategy.getItems(id)).map((i) => i.position)).toEqual([0, 1]);
        await expect(policy.close()).resolves.toBeUndefined();
      } finally {
        await policy.close();
      }
    });

    it('surfaces on flush() of the event store, once', async () => {
      const { eventStore, policy } = await conflict();
      try {
        expect(await rejectionOf(eventStore.flush())).toBeInstanceOf(ConcurrencyError);
        await expect(eventStore.flush()).resolves.toBeUndefined();
      } finally {
        await policy.close();
      }
    });

    it('surfaces on close() of the persistence policy', async () => {
      const { policy } = await conflict();
      const error = await rejectionOf(policy.close());
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect((error as { abandonedWrites?: number }).abandonedWrites).toBe(2);
      await expect(policy.close()).resolves.toBeUndefined();
    });

    it('does not disturb other entities', async () => {
      const { repository, policy, id } = await conflict();
      try {
        const other = createWidget('other');
        other.foo = 'other 2';
        expect((await repository.get(other.id)).foo).toBe('other 2');
        expect(await rejectionOf(repository.get(id))).toBeInstanceOf(ConcurrencyError);
      } finally {
        await policy.close();
      }
    });

    it('is never an unhandled rejection while nobody reads (jest fails a test that has one)', async () => {
      const { policy } = await conflict();
      await nextMacrotask();
      await nextMacrotask();
      expect(await rejectionOf(policy.close())).toBeInstanceOf(ConcurrencyError);
    });
  });
});

/**
 * Jest runs tests with a copy of `process` (its listeners never fire) and catches unhandled rejections
 * itself. To observe them with a real `process.on('unhandledRejection')` listener, the scenario runs in a
 * child Node process that loads core's TypeScript sources through @swc/core.
 */
describe('unhandled rejections, seen by a real process listener', () => {
  const loader = `
    const Module = require('node:module');
    const fs = require('node:fs');
    const { transformSync } = require('@swc/core');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      try { return resolve.call(this, request, ...rest); }
      catch (error) { if (request.endsWith('.js')) return resolve.call(this, request.slice(0, -3) + '.ts', ...rest); throw error; }
    };
    require.extensions['.ts'] = (module, filename) => {
      const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
        filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' },
      });
      module._compile(code, filename);
    };
  `;
  const scenario = `
    const core = require(${JSON.stringify(join(__dirname, '..', 'src', 'index.ts'))});
    const { randomUUID } = require('node:crypto');
    const seen = [];
    process.on('unhandledRejection', (reason) => seen.push(String(reason)));
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    (async () => {
      const result = {};
      if (process.argv.includes('--control')) {
        Promise.reject(new Error('control: deliberately unhandled'));
      } else {
        const { EventStore, InMemoryActiveRecordStrategy, SequencedItemMapper, EventSourcedRepository,
                PersistencePolicy, VersionedEntity, VersionedEntityEvent, ConcurrencyError, publish } = core;
        const eventStore = new EventStore({ activeRecordStrategy: new InMemoryActiveRecordStrategy(),
                                            sequencedItemMapper: new SequencedItemMapper() });
        const policy = new PersistencePolicy(eventStore, { eventType: VersionedEntityEvent });
        const repository = new EventSourcedRepository({ eventStore, mutator: VersionedEntity.mutate });
        const id = randomUUID();
        const created = new VersionedEntity.Created({ originatorId: id, originatorVersion: 0 });
        const a = VersionedEntity.mutate(undefined, created);
        publish(created);
        const b = await repository.get(id);
        a.changeAttribute('x', 'a');
        b.changeAttribute('x', 'b');
        b.changeAttribute('x', 'b2');
        await sleep(50);
        try { await repository.get(id); } catch (error) {
          result.errorIsConcurrency = error instanceof ConcurrencyError;
          result.abandonedWrites = error.abandonedWrites;
        }
        result.x = (await repository.get(id)).getAttribute('x');
        await policy.close();
      }
      await sleep(50);
      console.log(JSON.stringify({ seen, ...result }));
    })();
  `;
  const run = (...args: string[]): Record<string, unknown> => {
    const child = spawnSync(process.execPath, ['-e', loader + scenario, '--', ...args], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (child.status !== 0) throw new Error(`child failed (${child.status}): ${child.stderr}`);
    return JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  };

  it('the listener does see a deliberately unhandled rejection (the control)', () => {
    expect(run('--control').seen).toEqual(['Error: control: deliberately unhandled']);
  });

  it('a failed background write, read later, is never an unhandled rejection', () => {
    expect(run()).toEqual({ seen: [], errorIsConcurrency: true, abandonedWrites: 1, x: 'a' });
  });
});
