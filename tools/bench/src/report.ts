import type { Implementation, ScenarioName } from './adapter.js';
import type { ScenarioResult } from './scenarios/metrics.js';
import type { Sizes } from './scenarios/sizes.js';

/** What one implementation produced on one backend (a worker's report, or the median of several). */
export interface ImplementationReport {
  readonly implementation: Implementation;
  /** Present when it ran at all. */
  readonly description?: string;
  readonly serverVersion?: string;
  /** Why it did not run at all (not available on this backend, failed to load or connect). */
  readonly notRun?: string;
  readonly scenarios: Partial<Record<ScenarioName, ScenarioOutcome>>;
}

export type ScenarioOutcome =
  | { readonly status: 'ok'; readonly result: ScenarioResult }
  | { readonly status: 'unsupported'; readonly reason: string }
  | { readonly status: 'failed'; readonly error: string };

/** One backend's part of a run: what the table of that backend shows, and the results file keeps. */
export interface BackendReport {
  readonly backend: string;
  readonly title: string;
  readonly skipped?: string;
  /** The sizes this backend ran with. */
  readonly sizes: Sizes;
  readonly implementations: readonly ImplementationReport[];
  /** Absolute target for scenario 2 (100-event batches), events/s. */
  readonly batchTarget?: number;
}
