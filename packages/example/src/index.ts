export { Example, createNewExample } from './domain.js';
export { ExampleApplication } from './application.js';
export {
  runSeedScenario,
  checkSeedScenario,
  describeStore,
  type SeedApplication,
  type SeedScenarioReport,
  type ScenarioStep,
  type StoredItemView,
  type EntityView,
  type StoreSummary,
} from './scenario.js';
