export { defineActiveRecordStrategySuite } from './suite.js';
export type { ActiveRecordStrategySuiteOptions, CreateStrategyOptions } from './context.js';
export { describeIfAvailable, requireServer } from './servers.js';
