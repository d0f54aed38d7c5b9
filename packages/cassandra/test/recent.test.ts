import { ValidationError } from '@es/core';
import { KnownBuckets } from '../src/known.js';
import { RecentMap } from '../src/recent.js';

describe('RecentMap', () => {
  it('forgets the least recently used entry first, a get counting as a use', () => {
    const map = new RecentMap<string, number>(3);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect(map.get('a')).toBe(1); // a is now the most recent; b the least
    map.set('d', 4);
    expect(map.size).toBe(3);
    expect(map.get('b')).toBeUndefined();
    expect([map.get('a'), map.get('c'), map.get('d')]).toEqual([1, 3, 4]);
  });

  it('a set of a key it holds replaces the value without evicting anything', () => {
    const map = new RecentMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 10);
    expect(map.size).toBe(2);
    expect([map.get('a'), map.get('b')]).toEqual([10, 2]);
    map.set('c', 3); // a was set after b, then b read last: a is the least recent
    expect(map.get('a')).toBeUndefined();
  });

  it('keeps values that are falsy', () => {
    const map = new RecentMap<string, number>(1);
    map.set('a', 0);
    expect(map.get('a')).toBe(0);
    map.delete('a');
    expect(map.get('a')).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity])(
    'refuses a capacity of %p with a ValidationError',
    (capacity) => {
      expect(() => new RecentMap(capacity)).toThrow(ValidationError);
    },
  );
});

describe('KnownBuckets', () => {
  it('keeps what it knows of a sequence in use when others push past its capacity', () => {
    const known = new KnownBuckets(2);
    known.get('hot').seen = 41;
    known.get('cold-1');
    known.get('hot'); // in use again
    known.get('cold-2'); // past capacity: cold-1, the least recently used, is forgotten
    expect(known.get('hot').seen).toBe(41);
  });
});
