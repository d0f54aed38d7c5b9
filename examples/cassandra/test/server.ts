import { CassandraSettings } from '@es/cassandra';
import { canConnect, requireServer } from '@es/testing';

/** The node the example runs on: CASSANDRA_HOSTS / CASSANDRA_PORT, else 127.0.0.1:9042. */
export const settings = new CassandraSettings();

/** Fails under CI=true, skips loudly otherwise, when nothing answers there. */
export const cassandraAvailable = requireServer(
  `Cassandra at ${settings.address}`,
  () => canConnect(settings.hosts[0]!, settings.port),
  'pnpm cassandra start (from the repository root)',
);
