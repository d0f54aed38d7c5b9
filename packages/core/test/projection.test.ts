import {
  Aggregate,
  Application,
  type EventOf,
  InMemoryActiveRecordStrategy,
  NotSupportedError,
  ProjectionRunner,
  SequencedItemMapper,
  ValidationError,
  memoryStore,
} from '../src/index.js';

type VisitEvents = { Opened: { page: string }; Visited: { by: string } };
class Page extends Aggregate<VisitEvents> {
  static readonly topic = 'test.projection.Page';
  visit(by: string): void {
    this.trigger('Visited', { by });
  }
  protected apply(): void {}
}

describe('ProjectionRunner', () => {
  it('over an application in memory: typed events into a read model of its own, in a few lines', async () => {
    await using app = await Application.open({ store: memoryStore(), aggregates: [Page] });
    const visitors = new Map<string, number>();
    await using runner = app
      .projection<EventOf<VisitEvents>>({
        name: 'visitors',
        process: (event) => {
          if (event.type === 'Visited') visitors.set(event.by, (visitors.get(event.by) ?? 0) + 1);
        },
      })
      .start();
    const page = Page.create('Opened', { page: '/' });
    page.visit('ann');
    page.visit('bob');
    page.visit('ann');
    await app.save(page);
    await runner.whenCaughtUp();
    const deadline = Date.now() + 5000;
    while (runner.position < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(Object.fromEntries(visitors)).toEqual({ ann: 2, bob: 1 });
    expect(runner.position).toBe(4);
  });

  it('refuses a projection without a name or process, a source without a log, and a store that keeps no tracking', () => {
    const mapper = new SequencedItemMapper();
    const source = new InMemoryActiveRecordStrategy();
    const process = () => undefined;
    for (const projection of [{ name: '', process }, { name: 'x' }, null]) {
      expect(() => new ProjectionRunner({ projection: projection as never, source, mapper })).toThrow(
        ValidationError,
      );
    }
    expect(
      () => new ProjectionRunner({ projection: { name: 'x', process }, source: {} as never, mapper }),
    ).toThrow(NotSupportedError);
    const { processWithTracking: _, ...logOnly } = Object.assign(Object.create(null), {
      supportsNotifications: true,
      selectNotifications: () => Promise.resolve([]),
      maxNotificationId: () => Promise.resolve(0),
      processWithTracking: undefined,
    });
    expect(
      () => new ProjectionRunner({ projection: { name: 'x', process }, source: logOnly as never, mapper }),
    ).toThrow(ValidationError);
  });

  it('a runner runs once at a time; whenCaughtUp of a runner that is not running rejects', async () => {
    const source = new InMemoryActiveRecordStrategy();
    const runner = new ProjectionRunner({
      projection: { name: 'p', process: () => undefined },
      source,
      mapper: new SequencedItemMapper(),
    });
    await expect(runner.whenCaughtUp()).rejects.toBeInstanceOf(ValidationError);
    runner.start();
    expect(() => runner.run()).toThrow(ValidationError);
    await runner.whenCaughtUp();
    await runner.stop();
    expect(runner.caughtUp).toBe(true);
  });
});
