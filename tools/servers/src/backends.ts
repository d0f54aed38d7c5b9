/**
 * The one table of the backends @es runs on. The tests, the examples, the example CLI, the benchmarks and
 * CI all name backends with these names and find their servers through these variables: to move
 * PostgreSQL to port 5433 for all of them, set `ES_POSTGRES_URL=postgres://postgres@127.0.0.1:5433/test`.
 */
export const BACKEND_NAMES = ['memory', 'sqlite', 'postgres', 'mysql', 'cassandra'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** The backends that need a server (the others run in process). */
export type ServerName = 'postgres' | 'mysql' | 'cassandra';

export interface Backend {
  readonly name: BackendName;
  /** How people call it, for messages and tables. */
  readonly label: string;
  readonly server?: {
    /** The environment variable that says where the server is. */
    readonly variable: string;
    readonly defaultUrl: string;
    /** One line: how to start a server the tests can use. */
    readonly start: string;
  };
}

export const BACKENDS: Readonly<Record<BackendName, Backend>> = {
  memory: { name: 'memory', label: 'in-memory' },
  sqlite: { name: 'sqlite', label: 'SQLite' },
  postgres: {
    name: 'postgres',
    label: 'PostgreSQL',
    server: {
      variable: 'ES_POSTGRES_URL',
      defaultUrl: 'postgres://postgres@127.0.0.1:5432/test',
      start:
        'start PostgreSQL with user postgres, trust auth and a database `test` (Debian: pg_ctlcluster 15 main start; ' +
        'Docker: docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:15)',
    },
  },
  mysql: {
    name: 'mysql',
    label: 'MySQL/MariaDB',
    server: {
      variable: 'ES_MYSQL_URL',
      defaultUrl: 'mysql://root@127.0.0.1:3306/test',
      start:
        'start MariaDB or MySQL with user root, an empty password and a database `test` (Debian: service mariadb start; ' +
        'Docker: docker run -d -p 3306:3306 -e MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1 -e MARIADB_DATABASE=test mariadb:10.11)',
    },
  },
  cassandra: {
    name: 'cassandra',
    label: 'Cassandra',
    server: {
      variable: 'ES_CASSANDRA_URL',
      defaultUrl: 'cassandra://127.0.0.1:9042/?localDataCenter=datacenter1',
      start: 'pnpm cassandra start (fetches Cassandra 5.0 from Maven Central; needs Java 17 and Maven)',
    },
  },
};

export const SERVER_NAMES: readonly ServerName[] = ['postgres', 'mysql', 'cassandra'];

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
}

/**
 * Names from a comma-separated list (`postgres,mysql`), in table order; an unknown name throws, naming
 * the known ones.
 */
export function parseBackendList(list: string): BackendName[] {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !isBackendName(name));
  if (unknown.length > 0) {
    throw new Error(`unknown backend(s) ${unknown.join(', ')}; known: ${BACKEND_NAMES.join(', ')}`);
  }
  return BACKEND_NAMES.filter((name) => names.includes(name));
}

/** Where a backend's server is: its variable when set, else the default. */
export function serverUrl(name: ServerName, env: NodeJS.ProcessEnv = process.env): string {
  const { variable, defaultUrl } = BACKENDS[name].server!;
  const value = env[variable]?.trim();
  return value ? value : defaultUrl;
}

/** What to do when a server is not ready, for messages: how to start one, or where to say it is. */
export function howToStart(name: ServerName): string {
  const { start, variable } = BACKENDS[name].server!;
  return `${start}; or point ${variable} at one`;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** True when CI=true (or 1): then a missing server fails the run instead of skipping its tests. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['true', '1'].includes((env.CI ?? '').toLowerCase());
}

/** A table of the backends in Markdown, as docs/servers.md shows it (a test keeps the page in step). */
export function backendsMarkdown(): string {
  const rows = BACKEND_NAMES.map((name) => {
    const { label, server } = BACKENDS[name];
    return server
      ? `| \`${name}\` | ${label} | \`${server.variable}\` | \`${server.defaultUrl}\` | ${server.start} |`
      : `| \`${name}\` | ${label} | none | in process | nothing to start |`;
  });
  return ['| name | backend | variable | default | how to start it |', '|---|---|---|---|---|', ...rows].join(
    '\n',
  );
}
