import { conflictError } from './conflicts.js';
import type { SequencedItem } from './sequenced-item.js';

/** An append sent and not yet answered: its sequence's last position, and whether it was stored. */
interface InFlight {
  readonly last: number;
  readonly stored: Promise<boolean>;
}

/**
 * Appends to contiguous sequences, each waiting its turn behind an append of the same process to the
 * same sequence that is still in flight and reaches its first position (its last position is at or past
 * this one's first). If that append is stored, this one's first position is taken (by it, or, when it
 * starts further on, by what it continued: a sequence has no gaps), so this one fails here with a
 * ConcurrencyError, a fact and not a guess, without a statement; if it is not stored (a conflict, an
 * error, an unknown outcome), this one is sent as it would have been.
 *
 * Writers racing in one process mostly race each other: without this, each loser of a race sends its
 * append to the server, which takes the sequence's lock (or a Paxos round) to refuse it. Nothing else
 * changes: the server still decides every append it is sent, and an append that does not reach an
 * in-flight one's positions is sent at once.
 */
export class AppendTurns {
  private readonly inFlight = new Map<string, InFlight>();

  constructor(private readonly send: (items: readonly SequencedItem[]) => Promise<void>) {}

  /** Appends `items`, validated, of one sequence, in position order. */
  append(items: readonly SequencedItem[]): Promise<void> {
    const { sequenceId, position: first } = items[0]!;
    const ahead = this.inFlight.get(sequenceId);
    if (ahead === undefined || first > ahead.last) return this.sendTracked(items);
    return ahead.stored.then((stored) => {
      if (!stored) return this.sendTracked(items);
      throw conflictError(
        `position ${first} of sequence ${sequenceId} is already taken (by an append of this process stored while this one waited for it)`,
        sequenceId,
        first,
      );
    });
  }

  private sendTracked(items: readonly SequencedItem[]): Promise<void> {
    const { sequenceId } = items[0]!;
    const sent = this.send(items);
    const done = (stored: boolean): boolean => {
      if (this.inFlight.get(sequenceId) === entry) this.inFlight.delete(sequenceId);
      return stored;
    };
    const entry: InFlight = {
      last: items[items.length - 1]!.position,
      stored: sent.then(
        () => done(true),
        () => done(false),
      ),
    };
    this.inFlight.set(sequenceId, entry);
    return sent;
  }
}
