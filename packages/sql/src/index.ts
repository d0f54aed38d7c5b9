export { SqlSettings, type SqlSettingsOptions, type SqlDialectName } from './settings.js';
export type { SqlTls, SqlTlsMode, SqlTlsOption, SqlTlsOptions } from './tls.js';
export {
  SqlTable,
  SqlItemsTable,
  SqlTrackingTable,
  type SqlTableKind,
  type KeepsNotificationLog,
  type SchemalessDatabase,
  SqlIntegerSequencedItem,
  SqlTimestampSequencedItem,
  SqlSnapshot,
  SqlTracking,
} from './tables.js';
export { SqlDatastore, type SqlDatastoreOptions } from './datastore.js';
export type { SqlClient } from './client.js';
export type { PostgresPool, PostgresPoolClient } from './postgres.js';
export type { MysqlPool, MysqlPoolConnection } from './mysql.js';
export type { SqliteDatabase, SqliteStatement } from './sqlite.js';
export { SqlActiveRecordStrategy, type SqlActiveRecordStrategyOptions } from './strategy.js';
export { SqlTrackingRecorder, type SqlTrackingRecorderOptions } from './tracking.js';
export {
  AlreadyProcessedError,
  LockTimeoutError,
  StatementCancelledError,
  StorageFullError,
} from './errors.js';
export { openStore, type SqlStoreOptions } from './store.js';
