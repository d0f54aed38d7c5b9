/**
 * One writer process of the ring tests (run with tsx by ring.test.ts): appends to a few shared sequences
 * as fast as it can, each append at the position it believes is next, until its stdin closes. Every
 * outcome is one JSON line on stdout (see Outcome): the parent checks them against what the ring holds.
 * Each append's data is unique (writer, counter), so the parent can tell whose write is stored where.
 * With `feedTable`, it appends to that table of the feed's layout (each append writes its hint first).
 */
import { randomInt } from 'node:crypto';
import {
  ConcurrencyError,
  EsError,
  OutcomeUnknownError,
  SequencedItem,
  StoreConnectionError,
} from '@es/core';
import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '../../src/index.js';
import { policies } from 'cassandra-driver';
import { feedTable } from '../feed-helpers.js';
import { type Outcome, TOPIC, type WriterTask } from './ledger.js';

const task = JSON.parse(process.env.ES_RING_WRITER ?? '{}') as WriterTask;
const emit = (outcome: Outcome) => process.stdout.write(`${JSON.stringify(outcome)}\n`);
const describe = (error: unknown) =>
  error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  let stopping = false;
  process.stdin.on('end', () => (stopping = true));
  process.stdin.on('close', () => (stopping = true));
  process.stdin.resume();

  const datastore = new CassandraDatastore({
    settings: new CassandraSettings({ url: task.url }),
    ...(task.reconnectMs !== undefined && {
      clientOptions: {
        policies: { reconnection: new policies.reconnection.ConstantReconnectionPolicy(task.reconnectMs) },
      },
    }),
  });
  await datastore.setupConnection();
  const table = task.feedTable === undefined ? CqlIntegerSequencedItem : feedTable(task.feedTable);
  const strategy = new CassandraActiveRecordStrategy({ datastore, table });
  emit({ kind: 'ready', writer: task.writer });

  const next = new Map<string, number>(); // the position each sequence is believed to continue at
  let counter = 0;
  while (!stopping) {
    const sequence = task.sequences[randomInt(task.sequences.length)]!;
    let first = next.get(sequence);
    if (first === undefined) {
      try {
        const [last] = await strategy.getItems(sequence, { descending: true, limit: 1 });
        first = last === undefined ? 0 : last.position + 1;
      } catch (error) {
        emit({
          kind: 'read-failed',
          writer: task.writer,
          sequence,
          error: describe(error),
          typed: error instanceof EsError,
          at: Date.now(),
        });
        await sleep(100);
        continue;
      }
    }
    const items = Array.from({ length: 1 + randomInt(3) }, (_, i) => ({
      position: first! + i,
      data: JSON.stringify({ writer: task.writer, n: counter++ }),
    }));
    const startedAt = Date.now();
    try {
      await strategy.append(
        items.map((item) => new SequencedItem(sequence, item.position, TOPIC, item.data)),
      );
      emit({ kind: 'ack', writer: task.writer, sequence, items, startedAt, at: Date.now() });
      next.set(sequence, first + items.length);
    } catch (error) {
      const kind =
        error instanceof ConcurrencyError
          ? 'conflict'
          : error instanceof OutcomeUnknownError
            ? 'unknown'
            : error instanceof StoreConnectionError
              ? 'unavailable'
              : 'untyped';
      emit({ kind, writer: task.writer, sequence, items, error: describe(error), startedAt, at: Date.now() });
      next.delete(sequence); // read the head again
      if (kind !== 'conflict') await sleep(100);
    }
  }
  await datastore.close();
  emit({ kind: 'done', writer: task.writer });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`writer ${task.writer} failed: ${describe(error)}\n`);
    process.exit(1);
  },
);
