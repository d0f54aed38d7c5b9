/**
 * The reads `pnpm bench:memory` measures, as a user makes them, each sampling memory once a page. Each
 * checks that it went through every event, and returns how many it went through.
 */
import {
  type AggregateRecorder,
  type ApplicationRecorder,
  EventSourcedRepository,
  EventStore,
  type Mutator,
  NotificationLogReader,
  Subscription,
} from '@es/core';
import { BenchEntity } from '../domain.js';
import type { PeakSampler } from './figures.js';
import type { ReadName } from './options.js';
import { mapper, streamOf } from './stores.js';

export interface ReadContext {
  readonly events: AggregateRecorder;
  readonly size: number;
  readonly pageSize: number;
  readonly sampler: PeakSampler;
}

function expectAll(what: string, read: number, size: number): number {
  if (read !== size) throw new Error(`${what}: went through ${read} events, expected ${size}`);
  return read;
}

/** The store's log: a read of a store without one is not run (memory.ts asks `noLog` first). */
function logOf(events: AggregateRecorder): ApplicationRecorder {
  return events as ApplicationRecorder;
}

export const READ_FUNCTIONS: Record<ReadName, (context: ReadContext) => Promise<number>> = {
  /** EventSourcedRepository.get: the entity rebuilt from every event, replayed a page at a time. */
  async load({ events, size, pageSize, sampler }) {
    let replayed = 0;
    const mutate = BenchEntity.mutate as Mutator<BenchEntity>;
    const repository = new EventSourcedRepository<BenchEntity>({
      eventStore: new EventStore({ activeRecordStrategy: events, sequencedItemMapper: mapper }),
      // The repository pages its replay itself: the mutator is where a page is seen.
      mutator: (entity, event) => {
        if (++replayed % pageSize === 0) sampler.sample();
        return mutate(entity, event);
      },
      pageSize,
    });
    const entity = await repository.get(streamOf(size));
    return expectAll('EventSourcedRepository.get', entity.version, size);
  },

  /** The recorder's own paging: iteratePages, then iterateItems, over the whole stream. */
  async items({ events, size, pageSize, sampler }) {
    const stream = streamOf(size);
    let paged = 0;
    for await (const page of events.iteratePages(stream, { pageSize })) {
      paged += page.length;
      sampler.sample();
    }
    expectAll('iteratePages', paged, size);
    let items = 0;
    for await (const _ of events.iterateItems(stream, { pageSize })) {
      if (++items % pageSize === 0) sampler.sample();
    }
    return expectAll('iterateItems', items, size);
  },

  /** NotificationLogReader.readEventPages from the start to the head, each event decoded. */
  async log({ events, size, pageSize, sampler }) {
    const reader = new NotificationLogReader(logOf(events), mapper);
    let read = 0;
    for await (const page of reader.readEventPages({ pageSize })) {
      read += page.length;
      sampler.sample();
    }
    return expectAll('NotificationLogReader.readEventPages', read, size);
  },

  /** A Subscription from the start, a page at a time, until it has every event (it is then caught up). */
  async subscription({ events, size, pageSize, sampler }) {
    const subscription = new Subscription(logOf(events), mapper, { pageSize });
    let read = 0;
    try {
      for await (const page of subscription.pages()) {
        read += page.length;
        sampler.sample();
        if (read >= size) break;
      }
    } finally {
      await subscription[Symbol.asyncDispose]();
    }
    return expectAll('Subscription', read, size);
  },
};
