import type {
  AggregateRecorder,
  ApplicationRecorder,
  OpenStoreOptions,
  SequencedItem,
  Store,
} from '@es/core';
import { SettingsError } from '@es/core';
import { disposable } from '@es/core/backend';
import { CassandraDatastore } from './datastore.js';
import { FeedSequencer } from './sequencer.js';
import { CassandraSettings } from './settings.js';
import { CassandraActiveRecordStrategy } from './strategy.js';
import { CqlIntegerSequencedItem, CqlSnapshot } from './tables.js';

export interface CassandraStoreOptions extends OpenStoreOptions {
  /**
   * Keep the application's notification log (the feed, see docs/cassandra.md): events go to a table
   * with a feed, and the store's events are an ApplicationRecorder. Also `?feed=true` in the URL.
   */
  feed?: boolean;
  /**
   * With a feed: run a FeedSequencer in this process (it takes the feed's lease, or stands by while
   * another process holds it), stopped by `close()`. Default true; `false` (or `?sequencer=false`) when
   * the sequencer runs elsewhere (`cassandra-feed-sequencer`).
   */
  sequencer?: boolean;
}

export type CassandraStore<S extends AggregateRecorder<SequencedItem>> = Store<S> & {
  readonly datastore: CassandraDatastore;
  /** The sequencer this store runs, with a feed and `sequencer` not false. */
  readonly sequencer: FeedSequencer | undefined;
  /** `await using store = await openStore(...)`: the same as close(). */
  [Symbol.asyncDispose](): Promise<void>;
};

/**
 * A store for an Application from one URL: `cassandra://host[:port][,host...]/keyspace?localDataCenter=dc`
 * (see CassandraSettings for every option; default: the CASSANDRA_* variables, else a local node), plus
 * `feed=true` and `sequencer=false` (see CassandraStoreOptions).
 * Events go to `integer_sequenced_items`, snapshots to `snapshots`; `createTables: true` creates the
 * keyspace and tables that do not exist yet. The store owns its connection: `close()` releases it.
 * `openStore` from @es/core calls this for cassandra:// URLs.
 */
export async function openStore(
  url: string | undefined,
  options: CassandraStoreOptions & { feed: true },
): Promise<CassandraStore<ApplicationRecorder<SequencedItem>>>;
export async function openStore(
  url?: string,
  options?: CassandraStoreOptions,
): Promise<CassandraStore<AggregateRecorder<SequencedItem>>>;
export async function openStore(
  url?: string,
  options: CassandraStoreOptions = {},
): Promise<CassandraStore<AggregateRecorder<SequencedItem>>> {
  const { url: rest, feed: feedParam, sequencer: sequencerParam } = storeParams(url);
  const feed = options.feed ?? feedParam ?? false;
  const runSequencer = options.sequencer ?? sequencerParam ?? true;
  const settings = new CassandraSettings(rest === undefined ? {} : { url: rest });
  const events = feed ? CqlIntegerSequencedItem.withFeed() : CqlIntegerSequencedItem;
  const datastore = new CassandraDatastore({ settings, tables: [events, CqlSnapshot] });
  try {
    await datastore.setupConnection();
    if (options.createTables) await datastore.setupTables();
  } catch (error) {
    await datastore.close();
    throw error;
  }
  const sequencer =
    feed && runSequencer
      ? new FeedSequencer({ table: CqlIntegerSequencedItem.withFeed(), datastore })
      : undefined;
  sequencer?.start();
  return disposable({
    datastore,
    sequencer,
    events: new CassandraActiveRecordStrategy({ datastore, table: events }),
    snapshots: new CassandraActiveRecordStrategy({ datastore, table: CqlSnapshot }),
    description: settings.address,
    close: async () => {
      try {
        await sequencer?.stop();
      } finally {
        await datastore.close();
      }
    },
  });
}

/** The store's own URL options (`feed`, `sequencer`), taken out of the URL the settings read. */
function storeParams(url: string | undefined): {
  url: string | undefined;
  feed?: boolean;
  sequencer?: boolean;
} {
  if (url === undefined) return { url };
  const query = url.indexOf('?');
  if (query < 0) return { url };
  const params = new URLSearchParams(url.slice(query + 1));
  const flag = (name: string): boolean | undefined => {
    const value = params.get(name);
    params.delete(name);
    if (value === null) return undefined;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new SettingsError(`invalid Cassandra store option ${name}=${value}: use true or false`, 'url');
  };
  const feed = flag('feed');
  const sequencer = flag('sequencer');
  const left = params.toString();
  return {
    url: url.slice(0, query) + (left ? `?${left}` : ''),
    ...(feed === undefined ? {} : { feed }),
    ...(sequencer === undefined ? {} : { sequencer }),
  };
}
