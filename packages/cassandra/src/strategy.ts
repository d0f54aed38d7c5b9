import { SequencedItem, ValidationError } from '@es/core';
import {
  ActiveRecordStrategy,
  type ActiveRecordStrategyOptions,
  type NormalizedQuery,
  type TableOption,
  tableOption,
} from '@es/core/backend';
import { types } from 'cassandra-driver';
import { AppendProtocol } from './append.js';
import { BoundTable } from './bound-table.js';
import {
  type CassandraDatastore,
  type CqlSession,
  checkLayout,
  connectionError,
  defaultSession,
} from './datastore.js';
import { KnownBuckets } from './known.js';
import { ReadPlanner } from './read-planner.js';
import { CqlTable, type CqlTableKind } from './tables.js';

export type CassandraActiveRecordStrategyOptions<
  I = SequencedItem,
  K extends CqlTableKind = CqlTableKind,
> = Omit<ActiveRecordStrategyOptions<I>, 'positionKind' | 'contiguous'> &
  /**
   * The table definition (`table`, or the seed's `activeRecordClass`): CqlIntegerSequencedItem,
   * CqlTimestampSequencedItem, CqlSnapshot, or one made from them with `withTableName`/`withBucketSize`.
   */
  TableOption<CqlTable<K>> & {
    /** Whose connection to use. Default: the datastore most recently connected by `setupConnection()`. */
    datastore?: CassandraDatastore;
    /** An explicit client, keyspace and settings (takes precedence over `datastore`). */
    session?: CqlSession;
    /** Largest append in bytes of data and topics. Default 12 MiB, below Cassandra's 16 MiB mutation limit. */
    maxBatchBytes?: number;
  };

/**
 * The seed's CassandraActiveRecordStrategy, with an atomic, optimistic append that holds under
 * concurrent writers. It wires the parts, each in its own module:
 * - bound-table.ts: the table's CQL, bound to a session (every statement prepared, paged, at the
 *   configured levels);
 * - append.ts: the append protocol (conditional batches on bucketed partitions) and the resolution of
 *   unknown outcomes by SERIAL reads;
 * - read-planner.ts: which buckets a query reads, helped by known.ts (facts about buckets that can
 *   never become false).
 *
 * It is an AggregateRecorder: no table keeps a notification log yet. The table's kind `K` is in the
 * type so that a later feed can make the strategy over integer tables an ApplicationRecorder (log
 * methods typed `this: CassandraActiveRecordStrategy<I, 'integer'>`, as @es/sql does for its tables).
 */
export class CassandraActiveRecordStrategy<
  I = SequencedItem,
  K extends CqlTableKind = CqlTableKind,
> extends ActiveRecordStrategy<I> {
  readonly table: CqlTable<K>;
  readonly maxBatchBytes: number;
  // Private (#): a session's client holds the password, and strategies get logged.
  readonly #session: CqlSession | undefined;
  private readonly datastore: CassandraDatastore | undefined;
  private readonly layoutChecks = new WeakMap<object, Promise<void>>();
  /** Facts about buckets that can never become false (see known.ts): they save round trips. */
  private readonly known = new KnownBuckets();

  constructor(options: CassandraActiveRecordStrategyOptions<I, K>) {
    const {
      table: _table,
      activeRecordClass: _activeRecordClass,
      datastore,
      session,
      maxBatchBytes = 12 * 1024 * 1024,
      ...rest
    } = options;
    const table = tableOption(
      options,
      (value): value is CqlTable<K> => value instanceof CqlTable,
      'CqlIntegerSequencedItem',
    );
    // True for integer tables: an append must start exactly one past the sequence's last position.
    super({ ...rest, positionKind: table.positionKind, contiguous: table.contiguous });
    if (!Number.isSafeInteger(maxBatchBytes) || maxBatchBytes < 1) {
      throw new ValidationError('maxBatchBytes must be a positive integer', 'maxBatchBytes');
    }
    this.table = table;
    this.maxBatchBytes = maxBatchBytes;
    this.#session = session;
    this.datastore = datastore;
  }

  protected insert(items: readonly SequencedItem[]): Promise<void> {
    return this.tracked(() => this.insertNow(items));
  }

  private async insertNow(items: readonly SequencedItem[]): Promise<void> {
    let bytes = 0;
    for (const item of items)
      bytes += Buffer.byteLength(item.data, 'utf8') + Buffer.byteLength(item.topic, 'utf8');
    if (bytes > this.maxBatchBytes) {
      throw new ValidationError(
        `a batch holds at most ${this.maxBatchBytes} bytes of data and topics, got ${bytes}`,
        'items',
      );
    }
    const bound = await this.bound();
    await new AppendProtocol(bound, this.known).append(items, types.Uuid.random());
  }

  protected select(sequenceId: string, query: NormalizedQuery): Promise<SequencedItem[]> {
    return this.tracked(async () =>
      new ReadPlanner(await this.bound(), this.table, this.known).select(sequenceId, query),
    );
  }

  protected selectSequenceIds(): Promise<string[]> {
    return this.tracked(async () => {
      const ids = new Set<string>();
      for await (const id of (await this.bound()).sequenceIds()) ids.add(id);
      return [...ids];
    });
  }

  /** An operation on the datastore's connection, which its close() waits for (a session passed in is the caller's). */
  protected tracked<T>(operation: () => Promise<T>): Promise<T> {
    return this.#session === undefined && this.datastore !== undefined
      ? this.datastore.use(operation)
      : operation();
  }

  /** The table bound to the session to use, after checking once per client that it has this layout. */
  protected async bound(): Promise<BoundTable> {
    const session = this.#session ?? this.datastore?.session ?? defaultSession();
    let check = this.layoutChecks.get(session.client);
    if (check === undefined) {
      check = checkLayout(session, this.table).catch((error: unknown) => {
        this.layoutChecks.delete(session.client);
        throw connectionError(error, session.settings);
      });
      this.layoutChecks.set(session.client, check);
    }
    await check;
    return new BoundTable(session, this.table);
  }
}
