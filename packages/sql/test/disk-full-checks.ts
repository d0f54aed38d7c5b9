import { EsError, type SequencedItem } from '@es/core';
import { StorageFullError } from '../src/index.js';

/**
 * What both disk-full tests check once the store is full (SQLite's page limit, PostgreSQL's tmpfs): a
 * batch of 30 (a transaction of several statements) and several sequences' batches sent together (one
 * transaction) fail too; every failure so far, these and `failures` already seen, is a StorageFullError
 * saying nothing was written. The failures are added to `failures`.
 */
export async function expectRefusedWhenFull(
  append: (items: SequencedItem[]) => Promise<unknown>,
  batch: (id: string, from: number, count: number) => SequencedItem[],
  ids: { batched: string; others: readonly string[] },
  failures: unknown[],
): Promise<void> {
  await expect(append(batch(ids.batched, 0, 30))).rejects.toBeInstanceOf(StorageFullError);
  const together = await Promise.allSettled(ids.others.map((id) => append(batch(id, 0, 20))));
  for (const outcome of together) {
    expect(outcome.status).toBe('rejected');
    failures.push((outcome as PromiseRejectedResult).reason);
  }
  for (const failure of failures) {
    expect(failure).toBeInstanceOf(StorageFullError);
    expect(failure).toBeInstanceOf(EsError);
    expect((failure as Error).message).toMatch(/full.*nothing was written/);
  }
}
