export { CassandraApplication, setupCassandra } from './cassandra-application.js';
export { createApplication, dataLocation, defaultSettings } from './wiring.js';
