/**
 * The ring tests' bookkeeping: what writer processes report (Outcome lines) checked against what the
 * store holds. Pure, so that the checks themselves are tested without a server (ledger.test.ts).
 */

/** What a writer process is told (through ES_RING_WRITER). */
export interface WriterTask {
  readonly url: string;
  readonly writer: number;
  readonly sequences: readonly string[];
  /** A feed table's name (feed-helpers' feedTable layout): appends then write the feed's hints too. */
  readonly feedTable?: string;
  /**
   * The driver tries a lost node again every `reconnectMs` (its constant reconnection policy) instead of on
   * its default schedule (1 s, doubling, up to 10 min), which after a long outage waits minutes more.
   */
  readonly reconnectMs?: number;
}

export interface AppendOutcome {
  kind: 'ack' | 'conflict' | 'unknown' | 'unavailable' | 'untyped';
  writer: number;
  sequence: string;
  /** The append's positions and (unique) data. */
  items: { position: number; data: string }[];
  /** The error's class and message, when it failed. */
  error?: string;
  /** When the writer called append, and when it answered. */
  startedAt: number;
  at: number;
}

/** One JSON line of a writer's stdout. */
export type Outcome =
  | { kind: 'ready'; writer: number }
  | { kind: 'done'; writer: number }
  | AppendOutcome
  | { kind: 'read-failed'; writer: number; sequence: string; error: string; typed: boolean; at: number };

export const TOPIC = 'ring.Appended';

export interface StoredItem {
  readonly position: number;
  readonly data: string;
}

export interface LedgerReport {
  /** Appends by outcome, and head reads that failed (typed or not). */
  readonly counts: Record<AppendOutcome['kind'] | 'read-failed' | 'read-untyped', number>;
  /** Errors by class name, e.g. `{ ConcurrencyError: 40, OutcomeUnknownError: 1 }`. */
  readonly errors: Record<string, number>;
  /** Acknowledged items whose position holds something else, or nothing. */
  readonly lost: string[];
  /** Positions acknowledged to two appends. */
  readonly doubleWinners: string[];
  /** Items of appends refused (ConcurrencyError, StoreConnectionError) that are stored nevertheless. */
  readonly writtenButRefused: string[];
  /** Stored items that no writer attempted, or whose sequence has a gap before them. */
  readonly phantoms: string[];
  readonly gaps: string[];
  /** Unknown outcomes found applied, and not applied. */
  readonly unknownApplied: number;
  readonly unknownNotApplied: number;
  /** Items stored, over all sequences. */
  readonly stored: number;
}

/** Checks every writer's outcomes against the stored sequences (each read in full, in order). */
export function checkLedger(
  outcomes: readonly Outcome[],
  stored: ReadonlyMap<string, readonly StoredItem[]>,
): LedgerReport {
  const counts: LedgerReport['counts'] = {
    ack: 0,
    conflict: 0,
    unknown: 0,
    unavailable: 0,
    untyped: 0,
    'read-failed': 0,
    'read-untyped': 0,
  };
  const errors: Record<string, number> = {};
  const lost: string[] = [];
  const doubleWinners: string[] = [];
  const writtenButRefused: string[] = [];
  const phantoms: string[] = [];
  const gaps: string[] = [];
  let unknownApplied = 0;
  let unknownNotApplied = 0;

  const at = (sequence: string, position: number) =>
    stored.get(sequence)?.find((item) => item.position === position);
  const attempted = new Set<string>(); // sequence, position, data of every append that may have landed
  const acked = new Set<string>();
  for (const outcome of outcomes) {
    if (outcome.kind === 'ready' || outcome.kind === 'done') continue;
    if (outcome.kind === 'read-failed') {
      counts[outcome.typed ? 'read-failed' : 'read-untyped'] += 1;
      const name = outcome.error.split(':')[0]!;
      errors[name] = (errors[name] ?? 0) + 1;
      continue;
    }
    counts[outcome.kind] += 1;
    if (outcome.error !== undefined) {
      const name = outcome.error.split(':')[0]!;
      errors[name] = (errors[name] ?? 0) + 1;
    }
    const landed = outcome.items.map((item) => at(outcome.sequence, item.position)?.data === item.data);
    const where = (position: number) => `${outcome.sequence}@${position}`;
    if (outcome.kind === 'ack' || outcome.kind === 'unknown' || outcome.kind === 'untyped') {
      for (const item of outcome.items) attempted.add(`${where(item.position)} ${item.data}`);
    }
    if (outcome.kind === 'ack') {
      outcome.items.forEach((item, i) => {
        if (!landed[i])
          lost.push(
            `${where(item.position)}: acknowledged ${item.data}, stored ${at(outcome.sequence, item.position)?.data ?? 'nothing'}`,
          );
        if (acked.has(where(item.position))) doubleWinners.push(where(item.position));
        acked.add(where(item.position));
      });
    } else if (outcome.kind === 'unknown') {
      // All or nothing: an append is one conditional batch.
      if (landed.every(Boolean)) unknownApplied += 1;
      else if (!landed.some(Boolean)) unknownNotApplied += 1;
      else phantoms.push(`${where(outcome.items[0]!.position)}: part of an append with an unknown outcome`);
    } else if (outcome.kind !== 'untyped') {
      outcome.items.forEach((item, i) => {
        if (landed[i])
          writtenButRefused.push(`${where(item.position)}: ${outcome.kind} but stored ${item.data}`);
      });
    }
  }
  let total = 0;
  for (const [sequence, items] of stored) {
    total += items.length;
    items.forEach((item, i) => {
      if (item.position !== i) gaps.push(`${sequence}: position ${item.position} at index ${i}`);
      if (!attempted.has(`${sequence}@${item.position} ${item.data}`))
        phantoms.push(`${sequence}@${item.position}: ${item.data} was never attempted`);
    });
  }
  return {
    counts,
    errors,
    lost,
    doubleWinners,
    writtenButRefused,
    phantoms,
    gaps,
    unknownApplied,
    unknownNotApplied,
    stored: total,
  };
}
