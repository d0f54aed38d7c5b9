import { AlreadyProcessedError } from './errors.js';
import { validateTrackingName } from './process-recorder.js';
import type { Tracking } from './tracking.js';

/**
 * The tracking records of the in-memory store, and the one lock its tracked transactions take: a
 * competing call waits for the one in progress, then sees its records (as a SQL unique key makes a
 * competing transaction wait, then fail), so two followers never both apply a notification.
 */
export class InMemoryTracking {
  private readonly records = new Map<string, { ids: Set<number>; max: number }>();
  private tail: Promise<void> = Promise.resolve();

  max(applicationName: string): number {
    return this.records.get(validateTrackingName(applicationName))?.max ?? 0;
  }

  /** Runs `work` alone: after every earlier call has finished, and before any later one starts. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** AlreadyProcessedError when any record is taken. */
  check(tracking: readonly Tracking[]): void {
    for (const { applicationName, notificationId } of tracking) {
      if (this.records.get(applicationName)?.ids.has(notificationId))
        throw new AlreadyProcessedError(applicationName, notificationId);
    }
  }

  record(tracking: readonly Tracking[]): void {
    for (const { applicationName, notificationId } of tracking) {
      let entry = this.records.get(applicationName);
      if (entry === undefined) this.records.set(applicationName, (entry = { ids: new Set(), max: 0 }));
      entry.ids.add(notificationId);
      entry.max = Math.max(entry.max, notificationId);
    }
  }

  delete(applicationName: string): void {
    this.records.delete(applicationName);
  }
}
