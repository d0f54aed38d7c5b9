/**
 * A projection runner in a process of its own, for the SIGKILL test (projection-kill.test.ts): it
 * follows the log and keeps totals per stream; the test kills it at random points. Arguments: the
 * database URL, the events, tracking and totals table names, then flags:
 * - `--until-caught-up`: exit 0 once it has caught up;
 * - `--pause-at N`: stop inside the transaction at the N-th event (see below);
 * - `--effects TABLE --runner ID` (two runners competing): each event's handler also inserts a row
 *   (notification id, stream, version, ID) into TABLE, in the same transaction, so the test can count
 *   the effects each notification had and who committed them; the runner then runs until `stop` arrives
 *   on stdin, prints `refused <n>` (its pages refused because a competitor had taken a notification of
 *   them: the runner then goes on after the competitor's checkpoint) as it goes and when it stops, and
 *   exits 1 with the error if the runner stops on one;
 * - `--gate`: print `ready` once connected, and start only when `go` arrives on stdin (so that two
 *   runners start together).
 * It prints `position <id>` as the runner's position moves (after each page it commits or resumes after).
 */
import { createInterface } from 'node:readline';
import {
  AlreadyProcessedError,
  type ProjectionRecorder,
  ProjectionRunner,
  SequencedItemMapper,
} from '@es/core';
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
  const [url, eventsTable, trackingTable, totals, ...flags] = process.argv.slice(2) as string[];
  const flag = (name: string): string | undefined =>
    flags.includes(name) ? flags[flags.indexOf(name) + 1] : undefined;
  // `--pause-at N`: the handler stops inside its transaction at the N-th event it sees (after writing
  // the page's earlier events), says so, and waits to be killed.
  const pauseAt = Number(flag('--pause-at') ?? Infinity);
  const effects = flag('--effects');
  const runnerId = flag('--runner') ?? '';
  let seen = 0;
  const settings = new SqlSettings({ url: url! });
  const events = SqlIntegerSequencedItem.withTableName(eventsTable!);
  const tracking = SqlTracking.withTableName(trackingTable!);
  const datastore = new SqlDatastore({ settings, tables: [events, tracking] });
  await datastore.setupConnection();
  const store = new SqlActiveRecordStrategy({ datastore, table: events, tracking });
  // The store, counting the refusals the runner handles by itself.
  let refused = 0;
  const recorder: ProjectionRecorder<Transaction<any>> = {
    handleRollsBack: store.handleRollsBack,
    maxTrackingId: (name) => store.maxTrackingId(name),
    deleteTracking: (name, run) => store.deleteTracking(name, run),
    processWithTracking: async (records, run) => {
      try {
        return await store.processWithTracking(records, run);
      } catch (error) {
        if (error instanceof AlreadyProcessedError) refused++;
        throw error;
      }
    },
  };
  const runner = new ProjectionRunner<Scored, Transaction<any>>({
    projection: {
      name: 'totals',
      process: async (event, trx, notification) => {
        if (++seen === pauseAt) {
          process.stdout.write(`paused ${seen}\n`);
          await new Promise(() => {});
        }
        await addScore(trx, settings.dialect, totals!, event);
        if (effects !== undefined)
          await trx
            .insertInto(effects)
            .values({
              notification: notification.id,
              stream: event.originatorId,
              version: event.originatorVersion,
              runner: runnerId,
            })
            .execute();
      },
    },
    source: store as never,
    recorder,
    mapper: new SequencedItemMapper({ topics }),
    pageSize: 200,
    pollIntervalMs: 50,
  });
  let printed = 0;
  let said = 0;
  const progress = setInterval(() => {
    if (runner.position !== printed) process.stdout.write(`position ${(printed = runner.position)}\n`);
    if (effects !== undefined && refused !== said) process.stdout.write(`refused ${(said = refused)}\n`);
  }, 20);
  if (effects !== undefined) {
    const lines = createInterface({ input: process.stdin });
    // The end of stdin (the test's process gone) counts as both: a runner is not left behind.
    const when = (word: string) =>
      new Promise<void>((resolve) => {
        lines.on('line', (line) => line.trim() === word && resolve());
        lines.on('close', resolve);
      });
    const go = when('go');
    const stop = when('stop');
    if (flags.includes('--gate')) {
      process.stdout.write('ready\n');
      await go;
    }
    const running = runner.run();
    // A failure of the runner is reported by `running`, below.
    void stop.then(() => runner.stop()).catch(() => undefined);
    // Rejects with the error that stopped the runner (a competitor's refusal is not one: the runner
    // goes on after the competitor's checkpoint).
    await running;
    clearInterval(progress);
    lines.close();
    process.stdout.write(`refused ${refused}\nstopped ${runner.position}\n`);
    await datastore.close();
    return;
  }
  runner.start();
  await runner.whenCaughtUp();
  if (flags.includes('--until-caught-up')) {
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
