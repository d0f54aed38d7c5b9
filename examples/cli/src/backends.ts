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
    async open() {
      throw new Error('not yet');
    },
  },
  postgres: {
    label: 'PostgreSQL',
    async open() {
      throw new Error('not yet');
    },
  },
  mysql: {
    label: 'MySQL/MariaDB',
    async open() {
      throw new Error('not yet');
    },
  },
  cassandra: {
    label: 'Cassandra',
    async open({ env }) {
      const { CassandraSettings, createApplication, dataLocation } = await import('@es/example-cassandra');
      const settings = new CassandraSettings({}, env);
      return { app: await createApplication(settings), where: dataLocation(settings), persists: true };
    },
    startHint: () => 'Start one with: pnpm cassandra start (or set CASSANDRA_HOSTS / CASSANDRA_PORT).',
  },
};
