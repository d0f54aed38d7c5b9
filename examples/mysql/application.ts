import { ExampleApplication } from '@es/example';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';

/**
 * The example application on MySQL or MariaDB at `url` (`mysql://user:password@host:port/database`;
 * `mariadb://` works too): creates its table if missing; `app.close()` closes the connection pool.
 */
export async function createApplication(url: string): Promise<ExampleApplication> {
  const table = SqlIntegerSequencedItem;
  const datastore = await SqlDatastore.open({ settings: new SqlSettings(url), tables: [table] });
  return new ExampleApplication({
    activeRecordStrategy: new SqlActiveRecordStrategy({ datastore, table }),
    onClose: () => datastore.close(),
  });
}

/** Where `createApplication(url)` keeps the events (never with the password). */
export function dataLocation(url: string): string {
  return `MySQL/MariaDB at ${new SqlSettings(url)}, table ${SqlIntegerSequencedItem.tableName}`;
}
