import type { ProcessRecorder } from './process-recorder.js';
import { SettingsError } from './errors.js';
import { InMemoryActiveRecordStrategy } from './in-memory.js';
import type { AggregateRecorder } from './recorders.js';
import type { SequencedItem } from './sequenced-item.js';

/**
 * Everything an application stores, opened by a backend: its events (with the notification log) and
 * its snapshots. `openStore(url)` opens one from a URL; a backend package also exports its own opener.
 */
export interface Store<S extends AggregateRecorder<unknown> = AggregateRecorder<SequencedItem>> {
  /**
   * Where events go: integer positions (entity versions), with the application's notification log
   * where the backend keeps one (S is then an ApplicationRecorder).
   */
  readonly events: S;
  /** Where snapshots go. */
  readonly snapshots: AggregateRecorder<SequencedItem>;
  /** Where it is, without secrets: for messages. */
  readonly description: string;
  /**
   * Lets the operations in flight finish, then releases what the store opened (never a client the user
   * passed in); from then on the store refuses every use with StoreClosedError (docs/lifecycle.md).
   */
  close(): Promise<void>;
  /** `await using store = await openStore(url)`: the same as close(). The stores of the `@es` packages have it. */
  [Symbol.asyncDispose]?(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Create the tables (keyspace, tables) that do not exist yet, on open. Default false. */
  createTables?: boolean;
}

/** What a backend package exports for `openStore`: @es/sql and @es/cassandra do. */
export interface StoreBackend {
  openStore(url: string, options?: OpenStoreOptions): Promise<Store<AggregateRecorder<unknown>>>;
}

/** Where an application's events go when no URL is given and ES_URL is not set: a SQLite file here. */
export const DEFAULT_STORE_URL = 'sqlite:./es.sqlite';

/** The store URL of an application: ES_URL when set, else a SQLite file in the working directory. */
export function storeUrl(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.ES_URL?.trim() || DEFAULT_STORE_URL;
}

/** The backend package each URL scheme needs. */
const BACKENDS: Readonly<Record<string, { package: string; driver: string }>> = {
  sqlite: { package: '@es/sql', driver: 'better-sqlite3' },
  postgres: { package: '@es/sql', driver: 'pg' },
  postgresql: { package: '@es/sql', driver: 'pg' },
  mysql: { package: '@es/sql', driver: 'mysql2' },
  mariadb: { package: '@es/sql', driver: 'mysql2' },
  cassandra: { package: '@es/cassandra', driver: 'cassandra-driver' },
};

/**
 * Opens the store a URL names: `memory:`, `sqlite:./app.sqlite`, `postgres://user@host/db`,
 * `mysql://root@host/db`, `cassandra://host:9042/keyspace`. @es/core imports no database: the backend
 * package the scheme needs (@es/sql, @es/cassandra) is loaded only then, and a missing one is a
 * SettingsError that says what to install.
 */
export async function openStore(
  url: string = storeUrl(),
  options: OpenStoreOptions = {},
): Promise<Store<AggregateRecorder<unknown>>> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(typeof url === 'string' ? url : '')?.[1]?.toLowerCase();
  if (scheme === 'memory') return memoryStore();
  const backend = scheme === undefined ? undefined : BACKENDS[scheme];
  if (backend === undefined) {
    throw new SettingsError(
      `a store URL starts with memory:, sqlite:, postgres:, mysql:, mariadb: or cassandra:, got ${JSON.stringify(redact(String(url)))}`,
      'url',
    );
  }
  return (await loadBackend(backend.package, backend.driver)).openStore(url, options);
}

/** A store in process memory: nothing outlives the process. */
export function memoryStore(): Store<ProcessRecorder<SequencedItem, undefined>> {
  return disposable({
    events: new InMemoryActiveRecordStrategy(),
    // Snapshots sit at entity versions, with gaps between them.
    snapshots: new InMemoryActiveRecordStrategy({ contiguous: false }),
    description: 'memory: (process memory; nothing outlives the process)',
    close: async () => {},
  });
}

/** A store that `await using` closes: a backend's opener wraps what it returns in it. */
export function disposable<T extends Store<any>>(store: T): T & { [Symbol.asyncDispose](): Promise<void> } {
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
}

async function loadBackend(name: string, driver: string): Promise<StoreBackend> {
  let module: Partial<StoreBackend> & { default?: Partial<StoreBackend> };
  try {
    // A computed specifier: the backend is an optional peer, never bundled into @es/core.
    module = (await import(/* webpackIgnore: true */ name)) as typeof module;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new SettingsError(
        `this store URL needs the package ${name}, which is not installed: run \`npm install ${name} ${driver}\``,
        'url',
        { cause: error },
      );
    }
    throw error;
  }
  const backend = typeof module.openStore === 'function' ? module : module.default;
  if (typeof backend?.openStore !== 'function') {
    throw new SettingsError(
      `${name} does not export openStore(): its version does not match @es/core`,
      'url',
    );
  }
  return backend as StoreBackend;
}

function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
