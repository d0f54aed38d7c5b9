export { defineActiveRecordStrategySuite } from './suite.js';
export {
  given,
  givenEntity,
  type EntityEventSpec,
  type ErrorExpectation,
  type EventSpec,
  type Outcome,
} from './specification.js';
export type { ActiveRecordStrategySuiteOptions, CreateStrategyOptions } from './context.js';
export { describeIfAvailable, requireServer } from './servers.js';
export {
  defineProcessRecorderSuite,
  type ProcessRecorderSuiteOptions,
  type SuiteReadModel,
} from './process-recorder.js';
export { defineSubscriptionSuite, type SubscriptionSuiteOptions } from './subscription.js';
export { defineProjectionSuite, type ProjectionSuiteOptions, type TotalsReadModel } from './projection.js';
