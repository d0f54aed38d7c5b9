#!/usr/bin/env node
/**
 * A feed's sequencer as its own process: `es-cassandra-feed-sequencer [url] [--table name]` (from the
 * sources: `pnpm --filter @es/cassandra feed-sequencer -- [url] [--table name]`). The URL is a
 * `cassandra://` URL (default: ES_URL, else the CASSANDRA_* variables); the table defaults to
 * `integer_sequenced_items`, made with `withFeed()`. It runs until SIGINT or SIGTERM, then releases the
 * lease so that a standby takes over at once. Run two for a standby; see docs/cassandra.md, "Running it".
 */
import { CassandraDatastore } from './datastore.js';
import { FeedSequencer } from './sequencer.js';
import { CassandraSettings } from './settings.js';
import { CqlIntegerSequencedItem } from './tables.js';

async function main(argv: readonly string[]): Promise<void> {
  const tableAt = argv.indexOf('--table');
  const tableName = tableAt >= 0 ? argv[tableAt + 1] : undefined;
  const url = argv.find((arg, i) => !arg.startsWith('--') && i !== tableAt + 1) ?? process.env.ES_URL;
  const settings = new CassandraSettings(url?.startsWith('cassandra:') ? { url } : {});
  const table = (
    tableName ? CqlIntegerSequencedItem.withTableName(tableName) : CqlIntegerSequencedItem
  ).withFeed();
  const datastore = new CassandraDatastore({ settings, tables: [table] });
  await datastore.setupConnection();
  const sequencer = new FeedSequencer({
    table,
    datastore,
    onError: (error) =>
      process.stderr.write(`feed sequencer: ${error instanceof Error ? error.message : String(error)}\n`),
  });
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  sequencer.start();
  process.stdout.write(
    `feed sequencer ${sequencer.holder} for ${settings.address}/${settings.keyspace}.${table.tableName}: started\n`,
  );
  let leading = false;
  const watch = setInterval(() => {
    if (sequencer.isLeading !== leading) {
      leading = sequencer.isLeading;
      process.stdout.write(leading ? 'feed sequencer: leading\n' : 'feed sequencer: standing by\n');
    }
  }, 200);
  await stopped;
  clearInterval(watch);
  await sequencer.stop();
  await datastore.close();
  process.stdout.write('feed sequencer: stopped, lease released\n');
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`feed sequencer: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
