import {
  InMemoryActiveRecordStrategy,
  SequencedItem,
  StoreClosedError,
  VersionedEntityEvent,
} from '@es/core';
import {
  Example,
  ExampleApplication,
  checkSeedScenario,
  describeStore,
  runSeedScenario,
} from '../src/index.js';

function inMemoryApp(onClose?: () => Promise<void>) {
  return new ExampleApplication({
    activeRecordStrategy: new InMemoryActiveRecordStrategy({ sequencedItemClass: SequencedItem }),
    ...(onClose ? { onClose } : {}),
  });
}

describe('ExampleApplication', () => {
  it('calls the wiring’s onClose once, after flushing, and refuses an event it could no longer store', async () => {
    const strategy = new InMemoryActiveRecordStrategy();
    let closes = 0;
    const app = new ExampleApplication({
      activeRecordStrategy: strategy,
      onClose: async () => void (closes += 1),
    });
    const entity = app.createExample('bar1');
    await app.close();
    await app.close();
    expect(closes).toBe(1);
    expect(await strategy.getItems(entity.id)).toHaveLength(1);
    // Once closed, nothing would store the event: the setter says so instead of dropping it silently.
    expect(() => {
      entity.foo = 'after close';
    }).toThrow(StoreClosedError);
    expect(await strategy.getItems(entity.id)).toHaveLength(1);
  });

  it('uses the snapshots table strategy it is given', async () => {
    const snapshots = new InMemoryActiveRecordStrategy({ contiguous: false });
    await using app = new ExampleApplication({
      activeRecordStrategy: new InMemoryActiveRecordStrategy(),
      snapshotActiveRecordStrategy: snapshots,
    });
    const entity = app.createExample('bar1');
    entity.foo = 'bar2';
    await app.flush();
    await app.repository(Example.mutate, { snapshotPeriod: 1 }).get(entity.id);
    expect(await snapshots.getItems(entity.id)).toHaveLength(1);
    expect((await app.exampleRepository.get(entity.id)).foo).toBe('bar2');
  });
});

describe('runSeedScenario', () => {
  it('reports each step of the seed scenario as it happened', async () => {
    await using app = inMemoryApp();
    const report = await runSeedScenario(app);
    expect(checkSeedScenario(report)).toEqual([]);

    const [created, changed, discarded] = report.steps;
    expect(created.stored.map((i) => [i.position, i.topic])).toEqual([[0, 'example.Example.Created']]);
    expect(JSON.parse(created.stored[0]!.data)).toMatchObject({ foo: 'bar1', a: '', b: '' });
    expect(created.readBack).toEqual({ found: true, foo: 'bar1', version: 1 });
    expect(changed.stored.map((i) => [i.position, i.topic])).toEqual([
      [1, 'example.Example.AttributeChanged'],
    ]);
    expect(JSON.parse(changed.stored[0]!.data)).toMatchObject({ name: 'foo', value: 'bar2' });
    expect(changed.readBack).toEqual({ found: true, foo: 'bar2', version: 2 });
    expect(discarded.stored.map((i) => [i.position, i.topic])).toEqual([[2, 'example.Example.Discarded']]);
    expect(discarded.has).toBe(false);
    expect(discarded.readBack).toMatchObject({ found: false, rejectedWith: 'NotFoundError' });
    expect(discarded.entity).toEqual({ version: 3, discarded: true });

    expect(report.notifications?.map((n) => [n.id, n.sequenceId, n.position])).toEqual([
      [1, report.entityId, 0],
      [2, report.entityId, 1],
      [3, report.entityId, 2],
    ]);
    expect(report.notificationLogSize).toBe(3);
  });

  it('counts what earlier runs left in the store', async () => {
    await using app = inMemoryApp();
    expect(await describeStore(app)).toEqual({ entities: 0, notificationLogSize: 0 });
    await runSeedScenario(app);
    const second = await runSeedScenario(app);
    expect(second.notifications?.map((n) => n.id)).toEqual([4, 5, 6]);
    expect(await describeStore(app)).toEqual({ entities: 2, notificationLogSize: 6 });
  });

  it('reports no notification log on a backend without one', async () => {
    // A store that keeps no log, as Cassandra's does not.
    const noLog = Object.defineProperty(new InMemoryActiveRecordStrategy(), 'supportsNotifications', {
      value: false,
    });
    await using app = new ExampleApplication({ activeRecordStrategy: noLog });
    const report = await runSeedScenario(app);
    expect(report.notifications).toBeUndefined();
    expect(report.notificationLogSize).toBeUndefined();
    expect(checkSeedScenario(report)).toEqual([]);
    expect(await describeStore(app)).toEqual({ entities: 1, notificationLogSize: undefined });
  });

  it('rejects when a write fails, instead of reporting success', async () => {
    class Broken extends InMemoryActiveRecordStrategy {
      protected override async insert(): Promise<void> {
        throw new Error('disk full');
      }
    }
    await using app = new ExampleApplication({
      activeRecordStrategy: new Broken(),
      persistEventType: VersionedEntityEvent,
    });
    await expect(runSeedScenario(app)).rejects.toThrow('disk full');
    await expect(app.close()).resolves.toBeUndefined();
  });
});

describe('checkSeedScenario', () => {
  it('names every way a report differs from the seed', async () => {
    await using app = inMemoryApp();
    const report = await runSeedScenario(app);
    const [created, changed, discarded] = report.steps;
    const wrong = {
      ...report,
      steps: [
        { ...created, readBack: { found: true as const, foo: 'bar2', version: 1 } },
        { ...changed, stored: [] },
        { ...discarded, has: true },
      ] as const,
      notifications: report.notifications?.slice(1),
    };
    expect(checkSeedScenario(wrong)).toEqual([
      'create: foo is "bar2", expected bar1',
      'change: stored 0 items, expected 1',
      'change: stored topic undefined, expected example.Example.AttributeChanged',
      'change: stored at position undefined, expected 1',
      'discard: has() is true, expected false',
      "change: the stored AttributeChanged event does not carry foo = 'bar2'",
      'notification log: 2 entries for the entity, expected 3',
      'notification log: entries differ from the stored items',
    ]);
  });
});
