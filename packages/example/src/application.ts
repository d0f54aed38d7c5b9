import {
  type AggregateRecorder,
  Application,
  type ApplicationOptions,
  type EventSourcedRepository,
} from '@es/core';
import { Example, createNewExample } from './domain.js';

/**
 * The seed's example application. It never names a backend: the wiring passes the store in
 * (`activeRecordStrategy`, optionally `snapshotActiveRecordStrategy`, and `onClose` to release
 * connections), so the same class runs on every backend. Its `notificationLog` is typed from the store:
 * there for a store with a log, possibly undefined otherwise.
 *
 *     await using app = new ExampleApplication({ activeRecordStrategy, onClose });
 *     const entity = app.createExample('bar1');
 *     (await app.exampleRepository.get(entity.id)).foo; // 'bar1'
 */
export class ExampleApplication<
  S extends AggregateRecorder<unknown> = AggregateRecorder<unknown>,
> extends Application<S> {
  readonly exampleRepository: EventSourcedRepository<Example>;

  constructor(options: ApplicationOptions<S>) {
    super(options);
    this.exampleRepository = this.repository(Example);
  }

  createExample(foo: string): Example {
    return createNewExample({ foo }, this.publisher);
  }
}
