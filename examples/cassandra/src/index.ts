export { CassandraApplication, setupCassandra } from './cassandra-application.js';
export { createApplication, dataLocation } from './wiring.js';
// Re-exported so that wiring code (the CLI) can build settings without importing @es/cassandra itself.
export { CassandraSettings } from '@es/cassandra';
