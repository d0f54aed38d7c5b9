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
