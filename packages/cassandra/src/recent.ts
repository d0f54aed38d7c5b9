import { ValidationError } from '@es/core';

/**
 * A map of at most `capacity` entries that forgets the least recently used first: `get` and `set` both
 * count as a use. What a strategy remembers per entity (facts about buckets, where the last snapshot was)
 * saves round trips for the entities in use, and must not grow with every entity a long-running process
 * ever touched.
 */
export class RecentMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new ValidationError('capacity must be a positive integer', 'capacity');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // A Map iterates in insertion order: moving the key to the end makes the first key the least recent.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      const { value: oldest, done } = this.entries.keys().next();
      if (done !== true) this.entries.delete(oldest);
    }
    this.entries.set(key, value);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
