import {
  type DomainEvent,
  type EventHandler,
  type EventPublisher,
  type EventPredicate,
  defaultPublisher,
} from './events.js';
import type { EventStore } from './event-store.js';

export interface PersistencePolicyOptions {
  /** Only events of this class (and its subclasses) are stored. */
  eventType: abstract new (...args: any[]) => DomainEvent;
  /** Where events are published. Default: the process-wide publisher. */
  publisher?: EventPublisher;
}

/**
 * Stores every published event of `eventType` in the event store. Publishing is synchronous and
 * storing is not, so each event is queued per entity (in order); reads of that entity wait for it, and
 * `close()` waits for all of them and rethrows a failure.
 */
export class PersistencePolicy {
  private readonly publisher: EventPublisher;
  private readonly handler: EventHandler;
  private readonly predicate: EventPredicate;

  constructor(
    readonly eventStore: EventStore<any, any>,
    options: PersistencePolicyOptions,
  ) {
    const { eventType } = options;
    this.publisher = options.publisher ?? defaultPublisher;
    this.predicate = (events) => events.every((event) => event instanceof eventType);
    this.handler = (events) => this.eventStore.enqueue(events);
    this.publisher.subscribe(this.handler, this.predicate);
  }

  /** Waits for the queued writes, rethrowing a failure. */
  flush(): Promise<void> {
    return this.eventStore.flush();
  }

  /** Stops storing new events, then waits for the queued ones (rethrowing a failure). */
  async close(): Promise<void> {
    this.publisher.unsubscribe(this.handler, this.predicate);
    await this.eventStore.flush();
  }
}
