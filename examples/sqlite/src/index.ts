import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ExampleApplication } from '@es/example';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';

/** A SQLite file: ES_SQLITE_FILE, else `.es-data/example.sqlite` under the working directory. */
export function defaultSettings(env: NodeJS.ProcessEnv = process.env): SqlSettings {
  return new SqlSettings({
    dialect: 'sqlite',
    filename: resolve(env.ES_SQLITE_FILE ?? '.es-data/example.sqlite'),
  });
}

/**
 * The example application on SQLite: no server, one file (created with its table if missing), the
 * driver in process. `app.close()` closes the file.
 */
export async function createApplication(
  settings: SqlSettings = defaultSettings(),
): Promise<ExampleApplication> {
  if (!settings.inMemory) mkdirSync(dirname(settings.filename!), { recursive: true });
  const table = SqlIntegerSequencedItem;
  const datastore = await SqlDatastore.open({ settings, tables: [table] });
  return new ExampleApplication({
    activeRecordStrategy: new SqlActiveRecordStrategy({ datastore, table }),
    onClose: () => datastore.close(),
  });
}

/** Where `createApplication(settings)` keeps the events. */
export function dataLocation(settings: SqlSettings = defaultSettings()): string {
  return `SQLite file ${settings.filename}, table ${SqlIntegerSequencedItem.tableName}`;
}
