import {
  type Event,
  type EventStore,
  STREAM_DOES_NOT_EXIST,
  isExpectedVersionConflictError,
} from '@event-driven-io/emmett';
import type { BenchAdapter, EventSpec, ReadBack, ScenarioName } from '../adapter.js';
import { type FoldedState, fold } from '../domain.js';

export type BenchEvent =
  Event<'Created', { value: string }> | Event<'AttributeChanged', { name: string; value: string }>;

/** What differs between Emmett's stores: how one is made, emptied and closed, and how its log is read. */
export interface EmmettBackend {
  readonly storeDescription: string;
  /** A store over empty tables. */
  open(): Promise<EventStore>;
  close(): Promise<void>;
  serverVersion(): Promise<string | undefined>;
  /** Reads the global log from the start in pages until `count` events were read. */
  readLog?(count: number, pageSize: number): Promise<number>;
  readonly unsupported?: Partial<Record<ScenarioName, string>>;
  /** Says what an opaque driver error means, for the table. */
  explain?(error: unknown): string | undefined;
}

/**
 * Emmett as its docs show it: plain `{ type, data }` events appended with `appendToStream` and an
 * expected stream version, entities rebuilt with `aggregateStream` and an `evolve` function.
 */
export class EmmettAdapter implements BenchAdapter<BenchEvent> {
  readonly implementation = 'emmett' as const;
  readonly description: string;
  readonly unsupported: Partial<Record<ScenarioName, string>>;
  readonly snapshots = 'Emmett has no snapshots';
  private store!: EventStore;

  constructor(private readonly backend: EmmettBackend) {
    this.description = `0.42, appendToStream / aggregateStream over ${backend.storeDescription}`;
    this.unsupported = {
      ...(backend.readLog ? {} : { log: `${backend.storeDescription} has no global read API` }),
      ...backend.unsupported,
    };
  }

  async open(): Promise<void> {
    this.store = await this.backend.open();
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  serverVersion(): Promise<string | undefined> {
    return this.backend.serverVersion();
  }

  prepare(specs: readonly EventSpec[]): BenchEvent[] {
    return specs.map((spec) =>
      spec.created
        ? { type: 'Created', data: { value: spec.value } }
        : { type: 'AttributeChanged', data: { name: 'value', value: spec.value } },
    );
  }

  async append(stream: string, expectedVersion: number, events: readonly BenchEvent[]): Promise<boolean> {
    try {
      await this.store.appendToStream(stream, [...events], {
        expectedStreamVersion: expectedVersion === 0 ? STREAM_DOES_NOT_EXIST : BigInt(expectedVersion),
      });
      return true;
    } catch (error) {
      if (isExpectedVersionConflictError(error)) return false;
      const explanation = this.backend.explain?.(error);
      if (explanation) throw new Error(`${explanation} (${(error as Error).message})`, { cause: error });
      throw error;
    }
  }

  async streamVersion(stream: string, knownVersion: number): Promise<number> {
    // Emmett positions count from 1: reading from the last known one returns it and anything newer.
    const result = await this.store.readStream(
      stream,
      knownVersion > 0 ? { from: BigInt(knownVersion) } : {},
    );
    return Number(result.currentStreamVersion);
  }

  async readStream(stream: string): Promise<ReadBack[]> {
    const { events } = await this.store.readStream<BenchEvent>(stream);
    return events.map((event) => ({
      position: Number(event.metadata.streamPosition) - 1,
      value: event.data.value,
    }));
  }

  async load(stream: string): Promise<number> {
    const { state } = await this.store.aggregateStream<FoldedState, BenchEvent>(stream, {
      evolve: (state: FoldedState, event: BenchEvent) => fold(state, event.data),
      initialState: () => ({ version: 0, value: '' }),
    });
    return state.version;
  }

  takeSnapshot(): Promise<void> {
    return Promise.reject(new Error(this.snapshots));
  }

  readLog(count: number, pageSize: number): Promise<number> {
    if (!this.backend.readLog) return Promise.reject(new Error(this.unsupported.log));
    return this.backend.readLog(count, pageSize);
  }
}
