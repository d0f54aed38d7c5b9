import { SequencedItem } from '@es/core';
import { types } from 'cassandra-driver';
import type { Hint } from '../src/bound-feed.js';
import { inCommitOrder } from '../src/commit-order.js';

// How a sequencer pass orders what it copies (no server): each sequence's items stay in order, commits
// stay whole, and commits of different sequences are merged by their hints' deadlines.

function sequence(id: string, commits: readonly number[]) {
  const map = new WeakMap<SequencedItem, types.Uuid>();
  const ids = commits.map(() => types.Uuid.random());
  const items: SequencedItem[] = [];
  commits.forEach((size, c) => {
    for (let k = 0; k < size; k++) {
      const item = new SequencedItem(id, items.length, 't', '{}');
      map.set(item, ids[c]!);
      items.push(item);
    }
  });
  return { items, ids, map };
}

const hint = (sequenceId: string, commit: types.Uuid, deadline: number): Hint => ({
  shard: 0,
  sequenceId,
  commit,
  first: 0,
  deadline,
});

describe('the order of a pass (inCommitOrder)', () => {
  it('merges commits of several sequences by hint deadline, keeping each commit whole and each sequence in order', () => {
    const a = sequence('a', [2, 1]); // a0 a1 | a2
    const b = sequence('b', [3]); // b0 b1 b2
    const commits = new WeakMap<SequencedItem, types.Uuid>();
    for (const s of [a, b]) for (const item of s.items) commits.set(item, s.map.get(item)!);
    const hints = [hint('a', a.ids[0]!, 10), hint('b', b.ids[0]!, 20), hint('a', a.ids[1]!, 30)];
    const order = inCommitOrder([a.items, b.items], hints, commits).map(
      (i) => `${i.sequenceId}${i.position}`,
    );
    expect(order).toEqual(['a0', 'a1', 'b0', 'b1', 'b2', 'a2']);
  });

  it('never reorders a sequence, even when its later commit has the earlier deadline (clocks of two writers)', () => {
    const a = sequence('a', [1, 1]);
    const b = sequence('b', [1]);
    const commits = new WeakMap<SequencedItem, types.Uuid>();
    for (const s of [a, b]) for (const item of s.items) commits.set(item, s.map.get(item)!);
    const hints = [hint('a', a.ids[0]!, 50), hint('a', a.ids[1]!, 5), hint('b', b.ids[0]!, 20)];
    const order = inCommitOrder([a.items, b.items], hints, commits).map(
      (i) => `${i.sequenceId}${i.position}`,
    );
    expect(order).toEqual(['b0', 'a0', 'a1']);
  });

  it('puts a commit whose hint the pass did not see (it began after the hints were read) after the hinted ones', () => {
    const a = sequence('a', [1]);
    const b = sequence('b', [1]);
    const commits = new WeakMap<SequencedItem, types.Uuid>();
    for (const s of [a, b]) for (const item of s.items) commits.set(item, s.map.get(item)!);
    const order = inCommitOrder([a.items, b.items], [hint('b', b.ids[0]!, 99)], commits).map(
      (i) => `${i.sequenceId}${i.position}`,
    );
    expect(order).toEqual(['b0', 'a0']);
  });
});
