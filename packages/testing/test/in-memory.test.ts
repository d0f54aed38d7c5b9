import {
  type AggregateRecorder,
  InMemoryActiveRecordStrategy,
  type ItemQuery,
  type SequencedItem,
} from '@es/core';
import {
  defineActiveRecordStrategySuite,
  defineProcessRecorderSuite,
  defineProjectionSuite,
  defineSnapshotTailSuite,
  defineSubscriptionSuite,
} from '../src/conformance.js';

// The reference backend, with its notification log.
defineActiveRecordStrategySuite({
  name: 'in-memory',
  createStrategy: async (options) => new InMemoryActiveRecordStrategy(options),
  notifications: true,
  contiguous: true,
});

/**
 * The in-memory backend seen through a store that keeps no notification log (as Cassandra's does not):
 * an AggregateRecorder written by hand, without the base class.
 */
class WithoutNotificationLog implements AggregateRecorder {
  constructor(private readonly inner: InMemoryActiveRecordStrategy) {}

  get positionKind() {
    return this.inner.positionKind;
  }
  get sequenceIdKind() {
    return this.inner.sequenceIdKind;
  }
  append(items: SequencedItem | readonly SequencedItem[]): Promise<void> {
    return this.inner.append(items);
  }
  getItem(sequenceId: string, position: number): Promise<SequencedItem> {
    return this.inner.getItem(sequenceId, position);
  }
  getItems(sequenceId: string, query?: ItemQuery): Promise<SequencedItem[]> {
    return this.inner.getItems(sequenceId, query);
  }
  iterateItems(sequenceId: string, query?: ItemQuery & { pageSize?: number }): AsyncIterable<SequencedItem> {
    return this.inner.iterateItems(sequenceId, query);
  }
  iteratePages(
    sequenceId: string,
    query?: ItemQuery & { pageSize?: number },
  ): AsyncIterable<SequencedItem[]> {
    return this.inner.iteratePages(sequenceId, query);
  }
  listSequenceIds(): Promise<string[]> {
    return this.inner.listSequenceIds();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

defineActiveRecordStrategySuite({
  name: 'in-memory without a notification log',
  createStrategy: async (options) => new WithoutNotificationLog(new InMemoryActiveRecordStrategy(options)),
  notifications: false,
  contiguous: true,
});

defineActiveRecordStrategySuite({
  name: 'in-memory, UUID sequence ids only',
  createStrategy: async (options) => {
    if (options.sequenceIdKind === 'string') throw new Error('this store keeps UUID sequence ids only');
    return new InMemoryActiveRecordStrategy(options);
  },
  notifications: true,
  sequenceIdKinds: ['uuid'],
});

// The reference process recorder: its transactions offer no handle, so there is no read model to roll back.
defineProcessRecorderSuite({
  name: 'in-memory',
  createRecorder: async () => new InMemoryActiveRecordStrategy(),
});

defineSubscriptionSuite({
  name: 'in-memory',
  createRecorder: async () => new InMemoryActiveRecordStrategy(),
});

// In memory the read model is the test's own Map: the handle is nothing.
const totals = new Map<string, number>();
defineProjectionSuite<undefined>({
  name: 'in-memory',
  createRecorder: async () => new InMemoryActiveRecordStrategy(),
  readModel: {
    add: (_handle, key, points) => void totals.set(key, (totals.get(key) ?? 0) + points),
    totals: async (keys) =>
      Object.fromEntries(keys.filter((k) => totals.has(k)).map((k) => [k, totals.get(k)!])),
    reset: () => totals.clear(),
  },
});

// The reference backend reads another in-memory strategy's snapshots with its events.
defineSnapshotTailSuite({
  name: 'in-memory',
  createStores: async () => ({
    events: new InMemoryActiveRecordStrategy(),
    snapshots: new InMemoryActiveRecordStrategy({ contiguous: false }),
  }),
});
