/**
 * A writer process for the SIGKILL tests: appends single items to one sequence as fast as it can,
 * continuing from the stored head, and prints `ack <position>` only after an append resolved. The
 * parent kills it with SIGKILL at a random moment. Arguments: url, table name, sequence id.
 */
import { SequencedItem } from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
} from '../../src/index.js';

const [url, tableName, sequenceId] = process.argv.slice(2) as [string, string, string];
const table = SqlIntegerSequencedItem.withTableName(tableName);
const datastore = new SqlDatastore({ settings: new SqlSettings(url), tables: [table] });

async function main(): Promise<void> {
  await datastore.setupConnection();
  const store = new SqlActiveRecordStrategy({ datastore, table });
  const [last] = await store.getItems(sequenceId, { descending: true, limit: 1 });
  let position = last === undefined ? 0 : last.position + 1;
  process.stdout.write('ready\n');
  for (;;) {
    await store.append(new SequencedItem(sequenceId, position, 'test.Written', `{"p":${position}}`));
    process.stdout.write(`ack ${position}\n`);
    position += 1;
  }
}

void main();
