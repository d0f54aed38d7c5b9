import { ExampleApplication } from '@es/example';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';

/** ES_POSTGRES_URL, else the local server: `postgres://postgres@127.0.0.1:5432/test`. */
export function defaultSettings(env: NodeJS.ProcessEnv = process.env): SqlSettings {
  return new SqlSettings(env.ES_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
}

/**
 * The example application on PostgreSQL: creates its table if missing; `app.close()` closes the
 * connection pool.
 */
export async function createApplication(
  settings: SqlSettings = defaultSettings(),
): Promise<ExampleApplication> {
  const table = SqlIntegerSequencedItem;
  const datastore = await SqlDatastore.open({ settings, tables: [table] });
  return new ExampleApplication({
    activeRecordStrategy: new SqlActiveRecordStrategy({ datastore, table }),
    onClose: () => datastore.close(),
  });
}

/** Where `createApplication(settings)` keeps the events. */
export function dataLocation(settings: SqlSettings = defaultSettings()): string {
  return `PostgreSQL at ${settings.toString()}, table ${SqlIntegerSequencedItem.tableName}`;
}
