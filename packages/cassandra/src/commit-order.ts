/** The order in which a sequencer pass copies new items into the feed's log (pure: unit-tested without a server). */
import type { SequencedItem } from '@es/core';
import type { types } from 'cassandra-driver';
import type { Hint } from './bound-feed.js';

/**
 * The new items of every sequence as one list: each sequence's items in their order, cut into their
 * commits (runs of one commit id), and the commits of all sequences merged by the time their hints were
 * written (the writer's clock, strictly increasing within a process), so that an append acknowledged
 * before another began is copied first. A commit without a hint in this pass's snapshot began after
 * the snapshot was read: it goes after the hinted ones.
 */
export function inCommitOrder(
  sequences: readonly (readonly SequencedItem[])[],
  hints: readonly Hint[],
  commits: WeakMap<SequencedItem, types.Uuid>,
): SequencedItem[] {
  const hinted = new Map(hints.map((hint) => [hint.commit.toString(), hint.deadline]));
  const runs = sequences.map((items) => {
    const out: { time: number; items: SequencedItem[] }[] = [];
    let last: string | undefined;
    for (const item of items) {
      const commit = commits.get(item)?.toString();
      if (out.length === 0 || commit === undefined || commit !== last)
        out.push({ time: (commit === undefined ? undefined : hinted.get(commit)) ?? Infinity, items: [] });
      out[out.length - 1]!.items.push(item);
      last = commit;
    }
    return out;
  });
  const next = runs.map(() => 0);
  const merged: SequencedItem[] = [];
  for (;;) {
    let best = -1;
    for (let s = 0; s < runs.length; s++)
      if (
        next[s]! < runs[s]!.length &&
        (best < 0 || runs[s]![next[s]!]!.time < runs[best]![next[best]!]!.time)
      )
        best = s;
    if (best < 0) return merged;
    for (const item of runs[best]![next[best]!]!.items) merged.push(item);
    next[best]! += 1;
  }
}
