export { SqlSettings, type SqlSettingsOptions, type SqlDialectName } from './settings.js';
export {
  SqlTable,
  SqlItemsTable,
  SqlTrackingTable,
  type SqlTableKind,
  type KeepsNotificationLog,
  SqlIntegerSequencedItem,
  SqlTimestampSequencedItem,
  SqlSnapshot,
  SqlTracking,
} from './tables.js';
export { SqlDatastore, type SqlDatastoreOptions } from './datastore.js';
export { SqlActiveRecordStrategy, type SqlActiveRecordStrategyOptions } from './strategy.js';
export { SqlTrackingRecorder, type SqlTrackingRecorderOptions } from './tracking.js';
export { AlreadyProcessedError, LockTimeoutError } from './errors.js';
