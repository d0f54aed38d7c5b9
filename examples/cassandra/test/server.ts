import { CassandraSettings } from '@es/cassandra';
import { requireBackend } from '@es/servers/jest';

/** The node the example runs on: CASSANDRA_HOSTS / CASSANDRA_PORT, else 127.0.0.1:9042. */
export const settings = new CassandraSettings();

/** The one probe's answer (tools/servers): fails under CI=true, skips loudly otherwise. */
export const cassandraAvailable = requireBackend('cassandra');
