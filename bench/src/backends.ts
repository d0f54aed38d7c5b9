import type { BenchAdapter, Implementation } from './adapter.js';

export const BACKENDS = ['in-memory', 'sqlite', 'postgres', 'mariadb', 'cassandra'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Where the servers are (options and environment variables set these). */
export interface Connections {
  readonly postgresUrl: string;
  readonly mariadbUrl: string;
  readonly cassandraHost: string;
  readonly cassandraPort: number;
  readonly cassandraDataCenter: string;
  /** Where the SQLite files go (a fresh directory per run, removed afterwards). */
  readonly sqliteDir: string;
}

/** Builds an adapter (imported lazily: a package that fails to load fails only its own column). */
type Factory = (c: Connections) => Promise<BenchAdapter<any>>;

export interface BackendDefinition {
  readonly name: BackendName;
  readonly title: (c: Connections) => string;
  /** The server to reach first; none for in-process backends. */
  readonly server?: (c: Connections) => { host: string; port: number };
  /** Per implementation: how to build it, or why there is none on this backend. */
  readonly implementations: Record<Implementation, Factory | string>;
  /** The absolute target for 100-event batches, events/s. */
  readonly batchTarget?: number;
  /** Multiplies the operation counts: in memory an operation takes microseconds, so it needs more to time. */
  readonly scale?: number;
}

const hostPort = (url: string, defaultPort: number) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || defaultPort) };
};

export const DEFINITIONS: Record<BackendName, BackendDefinition> = {
  'in-memory': {
    name: 'in-memory',
    title: () => 'In-memory',
    implementations: {
      library: async () => (await import('./adapters/library-in-memory.js')).libraryInMemory(),
      raw: 'no driver: an in-memory store has nothing beneath the library to compare with',
      emmett: async () => (await import('./adapters/emmett-in-memory.js')).emmettInMemory(),
    },
    batchTarget: 1_000_000,
    scale: 10,
  },
  sqlite: {
    name: 'sqlite',
    title: () => 'SQLite file (WAL, synchronous=FULL)',
    implementations: {
      library: async (c) => (await import('./adapters/library-sqlite.js')).librarySqlite(c.sqliteDir),
      raw: async (c) => (await import('./adapters/raw-sqlite.js')).rawSqlite(c.sqliteDir),
      emmett: async (c) => (await import('./adapters/emmett-sqlite.js')).emmettSqlite(c.sqliteDir),
    },
    batchTarget: 200_000,
  },
  postgres: {
    name: 'postgres',
    title: (c) => `PostgreSQL (${c.postgresUrl})`,
    server: (c) => hostPort(c.postgresUrl, 5432),
    implementations: {
      library: async (c) => (await import('./adapters/library-postgres.js')).libraryPostgres(c.postgresUrl),
      raw: async (c) => (await import('./adapters/raw-postgres.js')).rawPostgres(c.postgresUrl),
      emmett: async (c) => (await import('./adapters/emmett-postgres.js')).emmettPostgres(c.postgresUrl),
    },
    batchTarget: 50_000,
  },
  mariadb: {
    name: 'mariadb',
    title: (c) => `MariaDB (${c.mariadbUrl})`,
    server: (c) => hostPort(c.mariadbUrl, 3306),
    implementations: {
      library: async (c) => (await import('./adapters/library-mariadb.js')).libraryMariadb(c.mariadbUrl),
      raw: async (c) => (await import('./adapters/raw-mariadb.js')).rawMariadb(c.mariadbUrl),
      emmett: 'Emmett 0.42 has no MySQL/MariaDB event store',
    },
  },
  cassandra: {
    name: 'cassandra',
    title: (c) => `Cassandra (${c.cassandraHost}:${c.cassandraPort}, dc ${c.cassandraDataCenter})`,
    server: (c) => ({ host: c.cassandraHost, port: c.cassandraPort }),
    implementations: {
      library: async (c) => (await import('./adapters/library-cassandra.js')).libraryCassandra(c),
      raw: async (c) => (await import('./adapters/raw-cassandra.js')).rawCassandra(c),
      emmett: 'Emmett 0.42 has no Cassandra event store',
    },
  },
};
