import { SequencedItem, type SnapshotTail } from '@es/core';
import type { Row } from './connection.js';

/**
 * The rows of a snapshot-and-events read (`k, position, topic, data`: k 0 for the snapshot's row, 1
 * for an event's) as the snapshot's item and the events' items in position order.
 *
 * Each loop is in a function of its own with nothing after it but a return. V8 compiles a loop that
 * runs long (the first page of a load without a snapshot yet, up to a page of 5,000 rows) on stack
 * replacement, before the code after the loop has ever run, so that code has no type feedback; a
 * deoptimisation there, outside the loop, does not discard the compiled loop, and every later read
 * entered it at the loop's second turn and was deoptimised again. With the loop and the code after it
 * in one closure, each load from a snapshot paid a deoptimisation (Node 20: `node --trace-deopt`
 * showed one per load for thousands of loads; docs/benchmarks.md, "Round 2e: SQLite loads").
 */
export function snapshotTail(rows: readonly Row[], sequenceId: string): SnapshotTail<SequencedItem> {
  const events: SequencedItem[] = [];
  const snapshot = splitRows(rows, sequenceId, events);
  // A UNION ALL's rows come part by part, each in its order, on the three dialects; sorted here if
  // they ever did not (SQL does not promise it without an outer ORDER BY, which would sort).
  if (!ascending(events)) events.sort((a, b) => a.position - b.position);
  return { snapshot, events };
}

/** The snapshot's item (returned) and the events' items (pushed onto `events`, in the rows' order). */
function splitRows(
  rows: readonly Row[],
  sequenceId: string,
  events: SequencedItem[],
): SequencedItem | undefined {
  let snapshot: SequencedItem | undefined;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const item = new SequencedItem(sequenceId, Number(row[1]), row[2] as string, row[3] as string);
    if (Number(row[0]) === 0) snapshot = item;
    else events.push(item);
  }
  return snapshot;
}

function ascending(items: readonly SequencedItem[]): boolean {
  for (let i = 1; i < items.length; i++) if (items[i]!.position < items[i - 1]!.position) return false;
  return true;
}
