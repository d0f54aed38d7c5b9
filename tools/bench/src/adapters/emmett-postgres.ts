import { dumbo } from '@event-driven-io/dumbo';
import {
  type PostgresEventStore,
  getPostgreSQLEventStore,
  readMessagesBatch,
} from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { EmmettAdapter } from './emmett.js';

/**
 * Emmett's PostgreSQL store with its default set-up (its own pool, schema created on first use). The
 * log is read with `readMessagesBatch`, what its consumers poll, over a dumbo pool.
 */
export function emmettPostgres(url: string): EmmettAdapter {
  let store: PostgresEventStore | undefined;
  const reader = dumbo({ connectionString: url });
  return new EmmettAdapter({
    storeDescription: 'getPostgreSQLEventStore(url) (readMessagesBatch for the log)',
    async open() {
      store = getPostgreSQLEventStore(url);
      await store.schema.migrate();
      await store.schema.dangerous.truncate({ resetSequences: true, truncateProjections: true });
      return store;
    },
    async close() {
      await store?.close();
      await reader.close();
    },
    async serverVersion() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
        return `PostgreSQL ${rows[0]!.server_version}`;
      } finally {
        await client.end();
      }
    },
    async readLog(count, pageSize) {
      let read = 0;
      let after = 0n;
      while (read < count) {
        const batch = await readMessagesBatch(reader.execute, { after, batchSize: pageSize });
        read += Math.min(batch.messages.length, count - read);
        if (!batch.areMessagesLeft || batch.messages.length === 0) break;
        after = batch.currentGlobalPosition;
      }
      return read;
    },
  });
}
