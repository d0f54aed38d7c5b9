/**
 * The one interface every implementation under test sits behind: the library (@es through its public
 * API), the raw driver (the same work without the library: the limit the library can approach), or
 * Emmett. The scenarios (scenarios.ts) only ever talk to this interface.
 */

/** What an event says, before any implementation turns it into its own form. */
export interface EventSpec {
  /** The first event of a stream (the entity's Created event); every other one changes its `value`. */
  readonly created: boolean;
  /** Unique per event within a run (`w3:s17:...`): the contention check finds every event by it. */
  readonly value: string;
}

/** One event as read back: its 0-based position in the stream and its `value`. */
export interface ReadBack {
  readonly position: number;
  readonly value: string;
}

export type Implementation = 'library' | 'raw' | 'emmett';

export const SCENARIOS = ['single', 'batch', 'writers', 'contention', 'load', 'log'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchAdapter<P = unknown> {
  readonly implementation: Implementation;
  /** One line saying exactly what is measured (printed under the table). */
  readonly description: string;
  /** Scenarios this implementation cannot run, each with the reason the table shows. */
  readonly unsupported: Partial<Record<ScenarioName, string>>;
  /** Whether `load(stream, true)` (from a snapshot) is possible; otherwise the reason. */
  readonly snapshots: true | string;

  /** Connects and starts from empty tables (a fresh schema, dropped first if present). */
  open(): Promise<void>;
  close(): Promise<void>;
  /** The server's version, for the report (e.g. `PostgreSQL 15.8`); undefined when there is no server. */
  serverVersion(): Promise<string | undefined>;

  /**
   * Turns specs into whatever `append` takes, outside the timed section: the raw driver gets rows
   * serialised here (so its figure is the driver's alone); the library and Emmett get the fields a user
   * would build their events from.
   */
  prepare(specs: readonly EventSpec[]): P[];
  /**
   * Appends events to a stream that holds exactly `expectedVersion` events (0: a new stream), atomically.
   * Resolves false on a concurrency conflict (nothing written); rejects on any other failure.
   */
  append(stream: string, expectedVersion: number, events: readonly P[]): Promise<boolean>;
  /** How many events the stream holds now (read after a conflict, as a writer would). */
  streamVersion(stream: string, knownVersion: number): Promise<number>;
  /** Every event of a stream in order (for the no-loss, no-duplicate check). */
  readStream(stream: string): Promise<ReadBack[]>;

  /** Rebuilds the entity of a stream (from its latest snapshot when asked); resolves its version. */
  load(stream: string, fromSnapshot: boolean): Promise<number>;
  /** Records a snapshot of the entity at its current version. */
  takeSnapshot(stream: string): Promise<void>;

  /**
   * Reads the notification log (global order) from the start in pages of `pageSize`, decoding each
   * event, until `count` events were read; resolves how many were read.
   */
  readLog(count: number, pageSize: number): Promise<number>;
}
