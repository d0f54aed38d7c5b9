import { join } from 'node:path';
import type { ExampleApplication } from '@es/example';
import { type BackendName, serverUrl } from '@es/servers';

/** What every example folder exports: the application on its backend at `where`, and where that is. */
interface ExampleWiring {
  createApplication(where: string): Promise<ExampleApplication>;
  dataLocation(where: string): string;
}

/** Each example is imported only when chosen, so running one never loads another's driver. */
const EXAMPLES: Record<BackendName, () => Promise<ExampleWiring>> = {
  memory: () => import('@es/example-in-memory'),
  sqlite: () => import('@es/example-sqlite'),
  postgres: () => import('@es/example-postgres'),
  mysql: () => import('@es/example-mysql'),
  cassandra: () => import('@es/example-cassandra'),
};

export interface OpenedExample {
  readonly app: ExampleApplication;
  /** Where the data lives, for the reader. */
  readonly where: string;
  /** False when nothing outlives the process. */
  readonly persists: boolean;
}

/**
 * The example application on one backend: SQLite in a file under `dataDir`, a server where the table of
 * backends says (its variable, else its default).
 */
export async function openExample(
  name: BackendName,
  options: { readonly dataDir: string; readonly env: NodeJS.ProcessEnv },
): Promise<OpenedExample> {
  const example = await EXAMPLES[name]();
  const at =
    name === 'memory'
      ? ''
      : name === 'sqlite'
        ? join(options.dataDir, 'example.sqlite')
        : serverUrl(name, options.env);
  return {
    app: await example.createApplication(at),
    where: example.dataLocation(at),
    persists: name !== 'memory',
  };
}
