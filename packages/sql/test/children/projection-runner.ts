/**
 * A projection runner in a process of its own, for the SIGKILL test (projection-kill.test.ts): it
 * follows the log and keeps totals per stream; the test kills it at random points. Arguments: the
 * database URL, the events, tracking and totals table names, and `--until-caught-up` to exit 0 once
 * it has caught up. It prints `position <id>` after each page it commits.
 */
import { ProjectionRunner, SequencedItemMapper } from '@es/core';
import type { Transaction } from 'kysely';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlTracking,
} from '../../src/index.js';
import { type Scored, addScore, topics } from './scores.js';

async function main(): Promise<void> {
  const [url, eventsTable, trackingTable, totals, mode, at] = process.argv.slice(2) as string[];
  // `--pause-at N`: the handler stops inside its transaction at the N-th event it sees (after writing
  // the page's earlier events), says so, and waits to be killed.
  const pauseAt = mode === '--pause-at' ? Number(at) : Infinity;
  let seen = 0;
  const settings = new SqlSettings({ url: url! });
  const events = SqlIntegerSequencedItem.withTableName(eventsTable!);
  const tracking = SqlTracking.withTableName(trackingTable!);
  const datastore = new SqlDatastore({ settings, tables: [events, tracking] });
  await datastore.setupConnection();
  const store = new SqlActiveRecordStrategy({ datastore, table: events, tracking });
  const runner = new ProjectionRunner<Scored, Transaction<any>>({
    projection: {
      name: 'totals',
      process: async (event, trx) => {
        if (++seen === pauseAt) {
          process.stdout.write(`paused ${seen}\n`);
          await new Promise(() => {});
        }
        await addScore(trx, settings.dialect, totals!, event);
      },
    },
    source: store as never,
    recorder: store,
    mapper: new SequencedItemMapper({ topics }),
    pageSize: 200,
    pollIntervalMs: 50,
  });
  let printed = 0;
  const progress = setInterval(() => {
    if (runner.position !== printed) process.stdout.write(`position ${(printed = runner.position)}\n`);
  }, 20);
  runner.start();
  await runner.whenCaughtUp();
  if (mode === '--until-caught-up') {
    await runner.stop();
    clearInterval(progress);
    process.stdout.write(`caught up ${runner.position}\n`);
    await datastore.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
