import type { ScenarioName } from '../adapter.js';
import type { Sizes } from './sizes.js';

export type MetricKey =
  | 'singleEventsPerSecond'
  | 'singleP50Ms'
  | 'singleP99Ms'
  | 'batchEventsPerSecond'
  | 'writersEventsPerSecond'
  | 'contentionEventsPerSecond'
  | 'contentionConflicts'
  | 'loadsPerSecond'
  | 'snapshotLoadsPerSecond'
  | 'logEventsPerSecond';

/** One scenario's figures. */
export interface ScenarioResult {
  readonly scenario: ScenarioName;
  readonly metrics: Partial<Record<MetricKey, number>>;
  /** What was verified after the run (e.g. nothing lost or duplicated). */
  readonly check?: string;
  /** With several rounds, the main figure of each (this result is the median one). */
  readonly runs?: number[];
  /** Figures this implementation cannot give, with the reason. */
  readonly missing?: Partial<Record<MetricKey, string>>;
  readonly seconds: number;
}

export interface MetricDefinition {
  readonly key: MetricKey;
  readonly scenario: ScenarioName;
  readonly label: (sizes: Sizes) => string;
  /** How a ratio to a baseline is read: for `higher`, library / baseline; for `lower`, baseline / library. */
  readonly better: 'higher' | 'lower' | 'none';
  readonly digits: number;
}

/** The table's rows, in order. */
export const METRICS: readonly MetricDefinition[] = [
  {
    key: 'singleEventsPerSecond',
    scenario: 'single',
    label: () => '1. single-event appends, new streams, 1 writer (events/s)',
    better: 'higher',
    digits: 0,
  },
  { key: 'singleP50Ms', scenario: 'single', label: () => '   latency p50 (ms)', better: 'lower', digits: 3 },
  { key: 'singleP99Ms', scenario: 'single', label: () => '   latency p99 (ms)', better: 'lower', digits: 3 },
  {
    key: 'batchEventsPerSecond',
    scenario: 'batch',
    label: (s) => `2. ${s.batchSize}-event batch appends, new streams (events/s)`,
    better: 'higher',
    digits: 0,
  },
  {
    key: 'writersEventsPerSecond',
    scenario: 'writers',
    label: (s) => `3. ${s.writers} writers, own streams, expected version (events/s)`,
    better: 'higher',
    digits: 0,
  },
  {
    key: 'contentionEventsPerSecond',
    scenario: 'contention',
    label: (s) => `4. ${s.writers} writers contending on ${s.contendedStreams} streams (events/s)`,
    better: 'higher',
    digits: 0,
  },
  {
    key: 'contentionConflicts',
    scenario: 'contention',
    label: () => '   conflicts seen (retried)',
    better: 'none',
    digits: 0,
  },
  {
    key: 'loadsPerSecond',
    scenario: 'load',
    label: (s) => `5. load the entity of a ${s.streamLength.toLocaleString('en-US')}-event stream (loads/s)`,
    better: 'higher',
    digits: 1,
  },
  {
    key: 'snapshotLoadsPerSecond',
    scenario: 'load',
    label: () => '   the same, from a snapshot (loads/s)',
    better: 'higher',
    digits: 1,
  },
  {
    key: 'logEventsPerSecond',
    scenario: 'log',
    label: (s) =>
      `6. notification log from the start, pages of ${s.pageSize.toLocaleString('en-US')} (events/s)`,
    better: 'higher',
    digits: 0,
  },
];

/** The figure that decides which run is the median one, and the one the rounds record. */
export const MAIN_METRIC: Record<ScenarioName, MetricKey> = {
  single: 'singleEventsPerSecond',
  batch: 'batchEventsPerSecond',
  writers: 'writersEventsPerSecond',
  contention: 'contentionEventsPerSecond',
  load: 'loadsPerSecond',
  log: 'logEventsPerSecond',
};
