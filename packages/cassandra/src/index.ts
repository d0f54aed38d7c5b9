export {
  CassandraSettings,
  type CassandraSettingsOptions,
  parseCassandraUrl,
  type ConsistencyLevel,
  type SerialConsistencyLevel,
  type ReplicationStrategy,
  CONSISTENCY_LEVELS,
  SERIAL_CONSISTENCY_LEVELS,
} from './settings.js';
export {
  CqlTable,
  type CqlTableKind,
  CqlIntegerSequencedItem,
  CqlTimestampSequencedItem,
  CqlSnapshot,
  type CqlFeedLayout,
  type CqlFeedOptions,
} from './tables.js';
export {
  CassandraDatastore,
  type CassandraDatastoreOptions,
  type CqlClient,
  type CqlSession,
} from './datastore.js';
export { CassandraActiveRecordStrategy, type CassandraActiveRecordStrategyOptions } from './strategy.js';
export { CassandraTrackingRecorder, type CassandraTrackingRecorderOptions } from './tracking.js';
export { FeedSequencer, type FeedSequencerOptions, type FeedPass } from './sequencer.js';
export { openStore, type CassandraStoreOptions, type CassandraStore } from './store.js';
