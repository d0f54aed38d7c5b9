import { randomUUID } from 'node:crypto';
import {
  AggregateRoot,
  EventPublisher,
  TimestampedEntity,
  TimestampedVersionedEntity,
  registerTopic,
} from '../src/index.js';

export const uuid = (): string => randomUUID();

/** Publishers of their own, so that test files never share the process-wide default. */
export const widgetPublisher = new EventPublisher();
export const notePublisher = new EventPublisher();

/** A versioned, timestamped entity like the seed's Example, local to core's tests. */
export class Widget extends TimestampedVersionedEntity {
  static override publisher = widgetPublisher;
  static override readonly Created = registerTopic(
    'test.Widget.Created',
    class Created extends TimestampedVersionedEntity.Created {
      declare readonly foo: string;
    },
  );
  static override readonly AttributeChanged = registerTopic(
    'test.Widget.AttributeChanged',
    class AttributeChanged extends TimestampedVersionedEntity.AttributeChanged {},
  );
  static override readonly Discarded = registerTopic(
    'test.Widget.Discarded',
    class Discarded extends TimestampedVersionedEntity.Discarded {},
  );

  get foo(): string {
    return this.getAttribute('foo') as string;
  }
  set foo(value: string) {
    this.changeAttribute('foo', value);
  }
}
registerTopic('test.Widget', Widget);

/** The seed's factory, for Widgets: records Created, builds the entity from it, publishes it. */
export function createWidget(foo = '', id: string = uuid()): Widget {
  const event = new Widget.Created({ originatorId: id, originatorVersion: 0, foo });
  const widget = Widget.mutate(undefined, event) as Widget;
  Widget.publisher.publish(event);
  return widget;
}

/** An unversioned entity, sequenced by timestamp. */
export class Note extends TimestampedEntity {
  static override publisher = notePublisher;

  get text(): string {
    return this.getAttribute('text') as string;
  }
  set text(value: string) {
    this.changeAttribute('text', value);
  }
}
registerTopic('test.Note', Note);

export function createNote(text: string): Note {
  const event = new Note.Created({ originatorId: uuid(), text });
  const note = Note.mutate(undefined, event) as Note;
  Note.publisher.publish(event);
  return note;
}

/** An aggregate whose events stay pending until the repository saves it. */
export class Order extends AggregateRoot {
  get status(): string {
    return this.getAttribute('status') as string;
  }
  set status(value: string) {
    this.changeAttribute('status', value);
  }
}
registerTopic('test.Order', Order);

/** Collects what a publisher delivers. */
export function recorder(publisher: EventPublisher): { batches: unknown[][]; stop: () => void } {
  const batches: unknown[][] = [];
  const handler = (events: readonly unknown[]): void => {
    batches.push([...events]);
  };
  publisher.subscribe(handler);
  return { batches, stop: () => publisher.unsubscribe(handler) };
}

/** Resolves after pending macrotasks: long enough for Node to report an unhandled rejection. */
export const nextMacrotask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

/** A promise with its resolve and reject exposed. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Awaits a promise that must reject, and returns what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}
