import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExampleApplication } from '@es/example';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';

/**
 * The example application on a SQLite file: no server, the driver in process. Creates the file, its
 * directory and its table if missing; `app.close()` closes the file.
 */
export async function createApplication(filename: string): Promise<ExampleApplication> {
  mkdirSync(dirname(filename), { recursive: true });
  const settings = new SqlSettings({ dialect: 'sqlite', filename });
  const table = SqlIntegerSequencedItem;
  const datastore = await SqlDatastore.open({ settings, tables: [table] });
  return new ExampleApplication({
    activeRecordStrategy: new SqlActiveRecordStrategy({ datastore, table }),
    onClose: () => datastore.close(),
  });
}

/** Where `createApplication(filename)` keeps the events. */
export function dataLocation(filename: string): string {
  return `SQLite file ${filename}, table ${SqlIntegerSequencedItem.tableName}`;
}
