/**
 * Issue 10, defect 2: with the network silently cut (a proxy that drops every byte, no reset), every
 * request ends within `requestTimeoutMs`: a write as OutcomeUnknownError, a read as
 * StoreConnectionError; nothing acknowledged is lost, and once the network is back the store works
 * again within a bounded time. Set through the URL parameter, as an application would.
 */
import { randomUUID } from 'node:crypto';
import { OutcomeUnknownError, SequencedItem, StoreConnectionError } from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlTracking,
  SqlTrackingRecorder,
} from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';
import { TcpProxy } from './tcp-proxy.js';

const TIMEOUT_MS = 800;
/** What only the cut produces: no answer within the request timeout, or a fresh connection timing out. */
const CUT = new RegExp(
  `no answer within ${TIMEOUT_MS} ms \\(requestTimeoutMs\\)|cannot connect to .*(timeout|ETIMEDOUT)`,
  'i',
);

async function outcome(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
    return { error: undefined, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

describeEachDialect(
  'a silent network cut, bounded by requestTimeoutMs',
  (dialect) => {
    const table = SqlIntegerSequencedItem.withTableName(uniqueName('cut'));
    const tracking = SqlTracking.withTableName(uniqueName('cut_tracking'));
    const direct = useDatastore(dialect, [table, tracking]);
    let proxy: TcpProxy;
    let datastore: SqlDatastore;

    beforeAll(async () => {
      const real = dialect.settings();
      proxy = await new TcpProxy(real.host!, real.port!).start();
      const url = new URL(dialect.url);
      url.host = `127.0.0.1:${proxy.port}`;
      url.search = `?requestTimeoutMs=${TIMEOUT_MS}&connectTimeoutMs=${TIMEOUT_MS}`;
      const settings = new SqlSettings({ url: url.toString(), poolSize: 3 });
      expect(settings.requestTimeoutMs).toBe(TIMEOUT_MS);
      datastore = new SqlDatastore({ settings, tables: [table, tracking] });
      await datastore.setupConnection();
    });
    afterAll(async () => {
      proxy?.heal();
      await datastore?.close();
      await proxy?.stop();
    });

    it('appends, reads and tracking commits end in time with typed outcomes; then the store recovers', async () => {
      const store = new SqlActiveRecordStrategy({ datastore, table });
      const recorder = new SqlTrackingRecorder({ datastore, table: tracking });
      const id = randomUUID();
      const item = (p: number) => new SequencedItem(id, p, 'test.Item', `{"p":${p}}`);
      await store.append(item(0));
      await store.append(item(1));
      // One open connection for each of the three operations below, so that each one's request is sent
      // (and then gets no answer), whichever takes a pooled connection first: with fewer, the last to
      // ask for one would open a new connection and fail to connect instead, which says nothing about
      // the request timeout (and which one that is depends on how many microtasks each path takes).
      await Promise.all([store.getItems(id), store.getItems(id), store.getItems(id)]);

      proxy.cut();
      const [append, read, track] = await Promise.all([
        outcome(store.append(item(2))),
        outcome(store.getItems(id)),
        outcome(recorder.processWithTracking({ applicationName: 'cut', notificationId: 1 }, async () => {})),
      ]);
      expect(append.error).toBeInstanceOf(OutcomeUnknownError);
      expect((append.error as Error).message).toMatch(new RegExp(`no answer within ${TIMEOUT_MS} ms`));
      expect(read.error).toBeInstanceOf(StoreConnectionError);
      expect((read.error as Error).message).toMatch(CUT);
      // The tracking transaction fails before or at its commit: typed either way.
      expect(track.error instanceof StoreConnectionError || track.error instanceof OutcomeUnknownError).toBe(
        true,
      );
      expect((track.error as Error).message).toMatch(CUT);
      // Bounded, not timed: 10x the timeout still fails on a hang, and never on a loaded machine.
      for (const o of [append, read, track]) expect(o.ms).toBeLessThan(10 * TIMEOUT_MS);

      proxy.heal();
      const healed = Date.now();
      // The cut append never reached the server: the writer reads, then continues where the store is.
      const stored = (await new SqlActiveRecordStrategy({ datastore: direct(), table }).getItems(id)).map(
        (i) => i.position,
      );
      expect(stored.slice(0, 2)).toEqual([0, 1]); // nothing acknowledged lost
      await store.append(item(stored.length));
      expect(Date.now() - healed).toBeLessThan(10 * TIMEOUT_MS);
      expect((await store.getItems(id)).map((i) => i.position)).toEqual([...stored, stored.length]);
    });
  },
  { only: ['postgres', 'mysql'] },
);
