/**
 * @es/testing/conformance: the contract every backend passes, as jest suites (it imports
 * `@jest/globals`, an optional peer of this package): `defineActiveRecordStrategySuite` for every store,
 * `defineProcessRecorderSuite` for process recorders, `defineSnapshotTailSuite` for stores that read
 * snapshots with their events, and the helper that fails under CI=true (and skips
 * loudly otherwise) when a server is missing.
 * @packageDocumentation
 */
export { defineActiveRecordStrategySuite } from './suite.js';

export type { ActiveRecordStrategySuiteOptions, CreateStrategyOptions } from './context.js';
export { describeIfAvailable, requireServer } from './servers.js';
export {
  defineProcessRecorderSuite,
  type ProcessRecorderSuiteOptions,
  type SuiteReadModel,
} from './process-recorder.js';
export { defineSubscriptionSuite, type SubscriptionSuiteOptions } from './subscription.js';
export { defineProjectionSuite, type ProjectionSuiteOptions, type TotalsReadModel } from './projection.js';
export { defineSnapshotTailSuite, type SnapshotTailSuiteOptions } from './snapshot-tail.js';
