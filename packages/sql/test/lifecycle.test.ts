import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SequencedItem, StoreClosedError } from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSnapshot,
  SqlTracking,
  openStore,
} from '../src/index.js';
import { describeEachDialect, uniqueName } from './dialects.js';

const run = promisify(execFile);
const CHILD = join(__dirname, 'lifecycle', 'close-without-await.ts');
const TSX = require.resolve('tsx/cli');
const ID = '2f0c4a52-8d1e-4b5e-9a57-3c1b7b0f4d11';

function item(position: number, sequenceId = ID): SequencedItem {
  return new SequencedItem(sequenceId, position, 'lifecycle.Event', `{"n":${position}}`);
}

describeEachDialect('lifecycle', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('lifecycle'));
  const tables = [
    table,
    SqlSnapshot.withTableName(`${table.tableName}_s`),
    SqlTracking.withTableName(`${table.tableName}_t`),
  ];

  afterAll(async () => {
    const cleanup = new SqlDatastore({ settings: dialect.settings(), tables });
    await cleanup.dropTables();
    await cleanup.close();
  });

  async function count(sequenceIds?: readonly string[]): Promise<number> {
    const datastore = new SqlDatastore({ settings: dialect.settings(), tables: [table] });
    try {
      const strategy = new SqlActiveRecordStrategy({ datastore, table });
      let total = 0;
      for (const id of sequenceIds ?? (await strategy.listSequenceIds()))
        total += (await strategy.getItems(id)).length;
      return total;
    } finally {
      await datastore.close();
    }
  }

  test('close() with writes in flight completes every one of them, then refuses further use', async () => {
    const datastore = await SqlDatastore.open({ settings: dialect.settings(), tables });
    const strategy = new SqlActiveRecordStrategy({ datastore, table });
    const ids = Array.from({ length: 12 }, (_, i) => ID.replace(/.{2}$/, String(10 + i)));
    const writes = ids.map((id) => strategy.append([item(0, id), item(1, id)]));
    const closed = datastore.close();
    const outcomes = await Promise.allSettled(writes);
    await closed;
    expect(outcomes.map((o) => o.status)).toEqual(ids.map(() => 'fulfilled'));
    expect(await count(ids)).toBe(24);

    expect(datastore.closed).toBe(true);
    await expect(strategy.getItems(ID)).rejects.toBeInstanceOf(StoreClosedError);
    await expect(strategy.append([item(5)])).rejects.toBeInstanceOf(StoreClosedError);
    await expect(datastore.setupTables()).rejects.toBeInstanceOf(StoreClosedError);
    expect(() => datastore.db).toThrow(StoreClosedError);
    // A second close is harmless.
    await datastore.close();
  });

  test('`await using` closes a datastore and a store opened from a URL', async () => {
    let kept: SqlDatastore;
    {
      await using datastore = await SqlDatastore.open({ settings: dialect.settings(), tables: [table] });
      kept = datastore;
      expect(datastore.closed).toBe(false);
    }
    expect(kept.closed).toBe(true);
    let store: Awaited<ReturnType<typeof openStore>>;
    {
      await using opened = await openStore(dialect.url, { tableNames: { events: table.tableName } });
      store = opened;
    }
    expect(store.datastore.closed).toBe(true);
  });

  // The report: `persistencePolicy.close(); datastore.close();` without await stored 0 of 60
  // events on PostgreSQL and the process exited 0; here every event is stored and the process exits.
  test.each(['seed', 'app'])(
    'closed without await (%s wiring): the child process exits by itself and every event is stored',
    async (wiring) => {
      const entities = 12;
      const changes = 4;
      const { stdout } = await run(
        process.execPath,
        [
          TSX,
          '--tsconfig',
          join(__dirname, '..', 'tsconfig.json'),
          CHILD,
          dialect.url,
          table.tableName,
          String(entities),
          String(changes),
          wiring,
        ],
        { timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } },
      );
      const ids = JSON.parse(stdout.trim().split('\n').pop()!) as string[];
      expect(ids).toHaveLength(entities);
      expect(await count(ids)).toBe(entities * (1 + changes));
    },
    60_000,
  );
});
