import { join } from 'node:path';
import type { ExampleApplication } from '@es/example';

export const BACKENDS = ['sqlite', 'memory', 'postgres', 'mysql', 'cassandra'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface OpenOptions {
  /** Where embedded stores keep their files. */
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface OpenedBackend {
  readonly app: ExampleApplication;
  /** Where the data lives, for the reader. */
  readonly where: string;
  /** False when nothing outlives the process. */
  readonly persists: boolean;
}

export interface Backend {
  readonly label: string;
  /** Each backend's package is imported only when chosen, so running one never loads another's driver. */
  open(options: OpenOptions): Promise<OpenedBackend>;
  /** One line saying how to start the server, for when it cannot be reached. */
  startHint?(env: NodeJS.ProcessEnv): string;
}

export const backends: Record<BackendName, Backend> = {
  memory: {
    label: 'in-memory',
    async open() {
      const { createApplication } = await import('@es/example-in-memory');
      return {
        app: await createApplication(),
        where: 'process memory (nothing outlives this process)',
        persists: false,
      };
    },
  },
  sqlite: {
    label: 'SQLite',
    async open({ dataDir, env }) {
      const { createApplication, dataLocation, defaultSettings } = await import('@es/example-sqlite');
      const settings = defaultSettings({ ...env, ES_SQLITE_FILE: join(dataDir, 'example.sqlite') });
      return { app: await createApplication(settings), where: dataLocation(settings), persists: true };
    },
  },
  postgres: {
    label: 'PostgreSQL',
    async open({ env }) {
      const { createApplication, dataLocation, defaultSettings } = await import('@es/example-postgres');
      const settings = defaultSettings(env);
      return { app: await createApplication(settings), where: dataLocation(settings), persists: true };
    },
    startHint: () => 'Start it (e.g. sudo service postgresql start) or point ES_POSTGRES_URL at one.',
  },
  mysql: {
    label: 'MySQL/MariaDB',
    async open({ env }) {
      const { createApplication, dataLocation, defaultSettings } = await import('@es/example-mysql');
      const settings = defaultSettings(env);
      return { app: await createApplication(settings), where: dataLocation(settings), persists: true };
    },
    startHint: () => 'Start it (e.g. sudo service mariadb start) or point ES_MYSQL_URL at one.',
  },
  cassandra: {
    label: 'Cassandra',
    async open({ env }) {
      const { createApplication, dataLocation, defaultSettings } = await import('@es/example-cassandra');
      const settings = defaultSettings(env);
      return { app: await createApplication(settings), where: dataLocation(settings), persists: true };
    },
    startHint: () =>
      'Start one with: pnpm cassandra start (or point CASSANDRA_HOSTS / CASSANDRA_PORT at one).',
  },
};
