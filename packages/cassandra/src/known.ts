/**
 * What one strategy instance has learnt about its sequences' buckets. It holds only facts that can never
 * become false while the tables exist (items and bucket index rows are never deleted or moved), so it
 * stays right however many other processes write the same sequences; forgetting is always safe, so the
 * map is bounded and drops its least recently used sequences first.
 */

import { RecentMap } from './recent.js';

/** A bucket of an integer table whose head has reached the end of its range: it will never change. */
export interface FrozenBucket {
  readonly bucket: number;
  /** Its first and last positions: it holds exactly the items first..last. */
  readonly first: number;
  readonly last: number;
}

export interface KnownSequence {
  /**
   * Integer tables: the frozen buckets holding positions 0..next-1, in order, with no gap. Why each
   * entry stays true: a bucket u whose head h is at least (u+1)·B - 1 is frozen (every append into u
   * starts inside u's range, so it expects a head below (u+1)·B - 1 and its compare-and-set fails), so
   * it holds first..h forever; and item h+1, if it ever exists, is the first item of the next successful
   * append, which goes into bucket floor((h+1)/B): so `next` always lives in bucket floor(next/B), the
   * only bucket that can hold positions from `next` on until it freezes in turn.
   */
  readonly frozen: FrozenBucket[];
  /** The highest position known to exist (items are never deleted), -1 when none is known. */
  seen: number;
  /** Buckets known to be listed in the bucket index (index rows are never deleted). */
  readonly indexed: Set<number>;
  /**
   * Marked (snapshot) tables: buckets this strategy announced before writing into them, each with the
   * newest bucket listed above it at the time (-1: none), and buckets known to carry their `newer` mark
   * (marks are never removed). See AppendProtocol.announce.
   */
  readonly announced: Map<number, number>;
  readonly marked: Set<number>;
}

export class KnownBuckets {
  private readonly sequences: RecentMap<string, KnownSequence>;

  /** `capacity`: how many sequences' facts are kept, the least recently used forgotten first. */
  constructor(capacity = 10_000) {
    this.sequences = new RecentMap(capacity);
  }

  /**
   * Drops what is known of a sequence, when the server contradicts it: it has lost data (a table truncated
   * or dropped and recreated, a restore), so facts learnt before are no longer facts.
   */
  forget(sequenceId: string): void {
    this.sequences.delete(sequenceId);
  }

  get(sequenceId: string): KnownSequence {
    let known = this.sequences.get(sequenceId);
    if (known === undefined) {
      known = { frozen: [], seen: -1, indexed: new Set(), announced: new Map(), marked: new Set() };
      this.sequences.set(sequenceId, known);
    }
    return known;
  }
}

/** The first position not covered by the known frozen buckets. */
export function nextAfter(known: KnownSequence): number {
  const last = known.frozen[known.frozen.length - 1];
  return last === undefined ? 0 : last.last + 1;
}

/**
 * Records a head read from bucket `bucket` of a table of bucket size `bucketSize` (its value at some
 * moment; heads only grow). Items 0..head exist for good. When the bucket is the one `next` lives in
 * and the head has reached the end of its range, the bucket is frozen: it holds next..head forever.
 */
export function learnHead(known: KnownSequence, bucketSize: number, bucket: number, head: number): void {
  if (head > known.seen) known.seen = head;
  const next = nextAfter(known);
  if (head >= next && Math.floor(next / bucketSize) === bucket && head >= (bucket + 1) * bucketSize - 1) {
    known.frozen.push({ bucket, first: next, last: head });
  }
}
