/**
 * A child process of the feed's fault tests (test/feed-faults.test.ts), run with tsx, killed with
 * SIGKILL at the step a test chooses. It prints one line per fact the parent needs:
 *   ACK <sequence> <first> <count>   an append acknowledged to this process
 *   HINTED / APPENDED / CHUNK-SENT   the step a test kills it at was reached
 *   LEADING                          a sequencer holds the lease
 * Modes:
 *   writer <count> <sequence>...           appends of 1-5 items to the sequences, in turn
 *   hang-after-hint <sequence> <first>     writes the hint, never sends the append
 *   hang-after-append <sequence> <first>   the append commits, its answer never comes back
 *   late <sequence> <first> <behindMs> <holdMs>
 *                                          its clock behind the parent's by behindMs, the append held
 *                                          holdMs after its deadline check passed (a request the network
 *                                          and server take that long over), then sent: prints ACK
 *   sequencer <leaseSeconds>               a FeedSequencer (start()), until killed
 *   sequencer-hang-in-chunk <n>            copies n chunks, sends the next one and hangs
 * Environment: ES_FEED_KEYSPACE, ES_FEED_TABLE.
 */
import { ConcurrencyError, SequencedItem } from '@es/core';
import { CassandraDatastore, FeedSequencer } from '../src/index.js';
import {
  REQUEST_TIMEOUT_MS,
  feedStore,
  feedTable,
  hookedSession,
  isItemAppend,
  isLogChunk,
} from './feed-helpers.js';
import { serverUrl } from '@es/servers';
import { CassandraSettings } from '../src/index.js';

const [mode = '', ...args] = process.argv.slice(2);
const table = feedTable(process.env.ES_FEED_TABLE!);
const say = (line: string) => process.stdout.write(`${line}\n`);
const never = () => new Promise<never>(() => undefined);

async function main(): Promise<void> {
  const datastore = new CassandraDatastore({
    settings: new CassandraSettings({
      url: serverUrl('cassandra'),
      keyspace: process.env.ES_FEED_KEYSPACE!,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    }),
  });
  await datastore.setupConnection();
  const item = (id: string, position: number) =>
    new SequencedItem(id, position, 'feed.Test', `{"pid":${process.pid},"p":${position}}`);

  if (mode === 'writer') {
    const [count, ...ids] = args;
    const store = feedStore(datastore, table);
    for (let i = 0; i < Number(count); i++) {
      const id = ids[i % ids.length]!;
      const [head] = await store.getItems(id, { descending: true, limit: 1 });
      const first = head === undefined ? 0 : head.position + 1;
      const size = 1 + ((i * 7 + process.pid) % 5);
      try {
        await store.append(Array.from({ length: size }, (_, k) => item(id, first + k)));
        say(`ACK ${id} ${first} ${size}`);
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) say(`ERROR ${String(error)}`);
      }
    }
    say('DONE');
  } else if (mode === 'hang-after-hint' || mode === 'hang-after-append') {
    const [id, first] = args;
    const session = hookedSession(datastore, (queries, send) => {
      if (!isItemAppend(queries, table)) return send();
      if (mode === 'hang-after-hint') {
        say('HINTED'); // the hint is written (it goes before the append): stop here, never send it
        return never();
      }
      return send().then(() => {
        say('APPENDED'); // committed; the answer never reaches the caller
        return never();
      });
    });
    await feedStore(datastore, table, session).append(item(id!, Number(first)));
    say('UNEXPECTED');
  } else if (mode === 'late') {
    const [id, first, behindMs, holdMs] = args;
    const realNow = Date.now.bind(Date);
    Date.now = () => realNow() - Number(behindMs);
    const session = hookedSession(datastore, (queries, send) =>
      isItemAppend(queries, table)
        ? new Promise((resolve) => setTimeout(resolve, Number(holdMs))).then(send)
        : send(),
    );
    await feedStore(datastore, table, session).append(item(id!, Number(first)));
    say(`ACK ${id} ${first} 1`);
  } else if (mode === 'sequencer') {
    const sequencer = new FeedSequencer({
      table,
      datastore,
      leaseSeconds: Number(args[0] ?? 10),
      onError: (error) => say(`ERROR ${String(error)}`),
    });
    sequencer.start();
    while (!sequencer.isLeading) await new Promise((resolve) => setTimeout(resolve, 20));
    say('LEADING');
    await never();
  } else if (mode === 'sequencer-hang-in-chunk') {
    let chunks = Number(args[0]);
    const session = hookedSession(datastore, (queries, send) => {
      if (!isLogChunk(queries, table)) return send();
      if (chunks-- > 0) return send();
      void send(); // sent: the chunk may or may not land; this process dies before it knows
      say('CHUNK-SENT');
      return never();
    });
    const sequencer = new FeedSequencer({ table, session, chunkItems: 4 });
    for (;;) await sequencer.runOnce();
  } else throw new Error(`unknown mode ${mode}`);
  await datastore.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
