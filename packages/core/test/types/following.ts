/**
 * Type-level tests of following the log: `pnpm typecheck` compiles this file. Each `@ts-expect-error`
 * line must fail to compile.
 */
import {
  Aggregate,
  Application,
  type AggregateRecorder,
  type EventOf,
  InMemoryActiveRecordStrategy,
  ProjectionRunner,
  SequencedItemMapper,
  Subscription,
  memoryStore,
} from '../../src/index.js';

type TallyEvents = { Opened: { label: string }; Added: { n: number } };
class Tally extends Aggregate<TallyEvents> {
  static readonly topic = 'types.following.Tally';
  protected apply(): void {}
}

export async function typed(): Promise<void> {
  const app = new Application({ store: memoryStore(), aggregates: [Tally] });
  // The events a subscription yields are the union asked for: a switch narrows their payloads.
  for await (const { id, event } of app.subscribe<EventOf<TallyEvents>>()) {
    const checkpoint: number = id;
    if (event.type === 'Added') {
      const n: number = event.n;
      void n;
      // @ts-expect-error Added has no label
      void event.label;
    }
    void checkpoint;
  }
  // In memory the transaction's handle is nothing; a projection says what it writes through.
  app.projection<EventOf<TallyEvents>, undefined>({
    name: 'tallies',
    process: (_event, handle: undefined) => handle,
  });
  // @ts-expect-error a projection needs a process method
  app.projection({ name: 'tallies' });

  // A store without a log has nothing to follow (Application.open's result is typed loosely, so an
  // application's subscribe() checks at run time: NotSupportedError).
  const mapper = new SequencedItemMapper();
  // @ts-expect-error a Subscription takes an ApplicationRecorder
  new Subscription({} as AggregateRecorder, mapper);
  new ProjectionRunner({
    projection: { name: 'x', process: () => undefined },
    source: new InMemoryActiveRecordStrategy(),
    mapper,
  });
}
