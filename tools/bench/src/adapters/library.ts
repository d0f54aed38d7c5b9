import {
  type AggregateRecorder,
  ConcurrencyError,
  EventSourcedRepository,
  EventStore,
  NotificationLogReader,
  hasNotificationLog,
  SequencedItemMapper,
  type Snapshot,
  SnapshotStrategy,
  type VersionedEntityEvent,
} from '@es/core';
import type { BenchAdapter, EventSpec, ReadBack, ScenarioName } from '../adapter.js';
import { BenchEntity } from '../domain.js';

/** What differs between backends for the library: how its two strategies are made and torn down. */
export interface LibraryBackend {
  /** Which strategy class, and how it is configured (for the output). */
  readonly strategyDescription: string;
  /** Strategies over fresh, empty tables: one for events, one for snapshots. */
  open(): Promise<{ events: AggregateRecorder; snapshots: AggregateRecorder }>;
  close(): Promise<void>;
  serverVersion(): Promise<string | undefined>;
  /** Scenarios the backend cannot run (e.g. no notification log), with the reason. */
  readonly unsupported?: Partial<Record<ScenarioName, string>>;
}

/**
 * The events of `specs` as a user builds them, at `expectedVersion` and on (also what the in-memory
 * probes build, so that they measure the same objects).
 */
export function benchEvents(
  stream: string,
  expectedVersion: number,
  specs: readonly EventSpec[],
): VersionedEntityEvent[] {
  // Each event's fields in one literal: on Node 20's V8, a literal that adds properties after a spread
  // (`{ ...fields, value }`) costs microseconds per object, more than the library's whole append.
  return specs.map((spec, i) =>
    spec.created
      ? new BenchEntity.Created({
          originatorId: stream,
          originatorVersion: expectedVersion + i,
          value: spec.value,
        })
      : new BenchEntity.AttributeChanged({
          originatorId: stream,
          originatorVersion: expectedVersion + i,
          name: 'value',
          value: spec.value,
        }),
  );
}

/**
 * @es as a user drives it: domain events built with their class, appended with `EventStore.append`
 * (the SequencedItemMapper serialises them, the strategy validates and writes them); entities loaded
 * with `EventSourcedRepository.get` (with a SnapshotStrategy for the snapshot case); the log read with
 * `NotificationLogReader.readEventPages`, which decodes each event and hands them over a page at a time
 * (what a catch-up or a follower uses; `readEvents` is the same read yielding one event at a time).
 */
export class LibraryAdapter implements BenchAdapter<EventSpec> {
  readonly implementation = 'library' as const;
  readonly description: string;
  readonly unsupported: Partial<Record<ScenarioName, string>>;
  readonly snapshots = true as const;
  private readonly mapper = new SequencedItemMapper();
  private events!: AggregateRecorder;
  private eventStore!: EventStore<VersionedEntityEvent>;
  private repository!: EventSourcedRepository<BenchEntity>;
  private snapshotRepository!: EventSourcedRepository<BenchEntity>;

  constructor(private readonly backend: LibraryBackend) {
    this.description = `EventStore.append / EventSourcedRepository.get / NotificationLogReader.readEventPages over ${backend.strategyDescription}`;
    this.unsupported = backend.unsupported ?? {};
  }

  async open(): Promise<void> {
    const { events, snapshots } = await this.backend.open();
    this.events = events;
    this.eventStore = new EventStore({ activeRecordStrategy: events, sequencedItemMapper: this.mapper });
    const snapshotStore = new EventStore<Snapshot>({
      activeRecordStrategy: snapshots,
      sequencedItemMapper: this.mapper,
    });
    this.repository = new EventSourcedRepository<BenchEntity>({
      eventStore: this.eventStore,
      mutator: BenchEntity.mutate,
    });
    this.snapshotRepository = new EventSourcedRepository<BenchEntity>({
      eventStore: this.eventStore,
      mutator: BenchEntity.mutate,
      snapshotStrategy: new SnapshotStrategy({ snapshotStore }),
    });
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  serverVersion(): Promise<string | undefined> {
    return this.backend.serverVersion();
  }

  prepare(specs: readonly EventSpec[]): EventSpec[] {
    return [...specs];
  }

  async append(stream: string, expectedVersion: number, specs: readonly EventSpec[]): Promise<boolean> {
    const events = benchEvents(stream, expectedVersion, specs);
    try {
      await this.eventStore.append(events);
      return true;
    } catch (error) {
      if (error instanceof ConcurrencyError) return false;
      throw error;
    }
  }

  async streamVersion(stream: string): Promise<number> {
    const last = await this.eventStore.getMostRecentEvent(stream);
    return last === undefined ? 0 : last.originatorVersion + 1;
  }

  async readStream(stream: string): Promise<ReadBack[]> {
    const events = await this.eventStore.getDomainEvents(stream);
    return events.map((event) => ({
      position: event.originatorVersion,
      value: (event as unknown as { value: string }).value,
    }));
  }

  async load(stream: string, fromSnapshot: boolean): Promise<number> {
    const entity = await (fromSnapshot ? this.snapshotRepository : this.repository).get(stream);
    return entity.version;
  }

  takeSnapshot(stream: string): Promise<void> {
    return this.snapshotRepository.takeSnapshot(stream);
  }

  async readLog(count: number, pageSize: number): Promise<number> {
    // The scenario runs only on backends with a log (the others list it as unsupported).
    if (!hasNotificationLog(this.events)) throw new Error(`${this.description}: no notification log`);
    const reader = new NotificationLogReader(this.events, this.mapper);
    let read = 0;
    for await (const page of reader.readEventPages({ pageSize })) {
      for (const _ of page) if (++read >= count) return read;
    }
    return read;
  }
}
