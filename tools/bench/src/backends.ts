import { BACKENDS as TABLE, type BackendName, type ServerName, redactUrl } from '@es/servers';
import type { BenchAdapter, Implementation } from './adapter.js';

/** Where the servers are (tools/servers' table: one variable per server) and where SQLite files go. */
export interface Connections {
  readonly urls: Readonly<Record<ServerName, string>>;
  /** A fresh directory per run, removed afterwards. */
  readonly sqliteDir: string;
}

/** Builds an adapter (imported lazily: a package that fails to load fails only its own column). */
type Factory = (c: Connections) => Promise<BenchAdapter<any>>;

export interface BackendDefinition {
  /** The heading of the backend's table (for a server, its label and URL are added). */
  readonly title: string;
  /** The server to probe first; none for in-process backends. */
  readonly server?: ServerName;
  /** Per implementation: how to build it, or why there is none on this backend. */
  readonly implementations: Record<Implementation, Factory | string>;
  /** The absolute target for 100-event batches, events/s. */
  readonly batchTarget?: number;
  /** Multiplies the operation counts: in memory an operation takes microseconds, so it needs more to time. */
  readonly scale?: number;
}

export const DEFINITIONS: Record<BackendName, BackendDefinition> = {
  memory: {
    title: 'In-memory',
    implementations: {
      library: async () => (await import('./adapters/library-in-memory.js')).libraryInMemory(),
      raw: 'no driver: an in-memory store has nothing beneath the library to compare with',
      emmett: async () => (await import('./adapters/emmett-in-memory.js')).emmettInMemory(),
    },
    batchTarget: 1_000_000,
    scale: 10,
  },
  sqlite: {
    title: 'SQLite file (WAL, synchronous=FULL)',
    implementations: {
      library: async (c) => (await import('./adapters/library-sqlite.js')).librarySqlite(c.sqliteDir),
      raw: async (c) => (await import('./adapters/raw-sqlite.js')).rawSqlite(c.sqliteDir),
      emmett: async (c) => (await import('./adapters/emmett-sqlite.js')).emmettSqlite(c.sqliteDir),
    },
    batchTarget: 200_000,
  },
  postgres: {
    title: TABLE.postgres.label,
    server: 'postgres',
    implementations: {
      library: async (c) => (await import('./adapters/library-postgres.js')).libraryPostgres(c.urls.postgres),
      raw: async (c) => (await import('./adapters/raw-postgres.js')).rawPostgres(c.urls.postgres),
      emmett: async (c) => (await import('./adapters/emmett-postgres.js')).emmettPostgres(c.urls.postgres),
    },
    batchTarget: 50_000,
  },
  mysql: {
    title: TABLE.mysql.label,
    server: 'mysql',
    implementations: {
      library: async (c) => (await import('./adapters/library-mysql.js')).libraryMysql(c.urls.mysql),
      raw: async (c) => (await import('./adapters/raw-mysql.js')).rawMysql(c.urls.mysql),
      emmett: 'Emmett 0.42 has no MySQL/MariaDB event store',
    },
  },
  cassandra: {
    title: TABLE.cassandra.label,
    server: 'cassandra',
    implementations: {
      library: async (c) =>
        (await import('./adapters/library-cassandra.js')).libraryCassandra(c.urls.cassandra),
      raw: async (c) => (await import('./adapters/raw-cassandra.js')).rawCassandra(c.urls.cassandra),
      emmett: 'Emmett 0.42 has no Cassandra event store',
    },
  },
};

/** The heading of a backend's table: `PostgreSQL (postgres://postgres@127.0.0.1:5432/test)`. */
export function backendTitle(name: BackendName, c: Connections): string {
  const { title, server } = DEFINITIONS[name];
  return server ? `${title} (${redactUrl(c.urls[server])})` : title;
}
