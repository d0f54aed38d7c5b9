import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EsError, SequencedItem } from '@es/core';
import { requireServer } from '@es/testing/conformance';
import { StorageFullError } from '../src/index.js';

/**
 * Whether this process can mount a tmpfs (root): the real full disks of PostgreSQL and MariaDB are a tmpfs
 * the test mounts. Under CI=true (root here) a machine that cannot fails the file; asked once per file.
 */
export function canMountTmpfs(server: string): boolean {
  return requireServer(
    `a tmpfs mounted by the test (a real full disk for ${server})`,
    () => {
      if (process.getuid?.() !== 0) throw new Error('mounting a tmpfs needs root');
      const probe = mkdtempSync(join(tmpdir(), 'es-mount-probe-'));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe' });
        execFileSync('umount', [probe], { stdio: 'pipe' });
      } finally {
        rmSync(probe, { recursive: true, force: true });
      }
      return true;
    },
    `run the tests as root on the machine that runs ${server}`,
  );
}

/** Mounts a tmpfs of `size` (e.g. '1m') on a new directory; `unmount` detaches it even when busy. */
export function mountTmpfs(
  prefix: string,
  size: string,
): { path: string; grow(size: string): void; unmount(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], {
    stdio: 'pipe',
    timeout: 30_000,
  });
  return {
    path,
    grow: (larger) =>
      execFileSync('mount', ['-o', `remount,size=${larger}`, path], { stdio: 'pipe', timeout: 30_000 }),
    unmount: () => {
      try {
        execFileSync('umount', [path], { stdio: 'pipe', timeout: 30_000 });
      } catch {
        execFileSync('umount', ['-l', path], { stdio: 'pipe', timeout: 30_000 }); // busy: detach it now
      }
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Text that does not compress, so each item takes its room in the table's pages (~1.7 kB). */
export const incompressible = (n: number) =>
  JSON.stringify({ n, filler: Array.from({ length: 48 }, () => randomUUID()).join('') });

/** `count` items of sequence `id` from position `from`. */
export const itemsOf = (id: string, from: number, count: number) =>
  Array.from({ length: count }, (_, i) => new SequencedItem(id, from + i, 't', incompressible(from + i)));

/**
 * Appends single items to a new sequence until the first failure; returns how many were acknowledged and
 * the failure (the loop gives up after 5,000: a volume that never fills fails the caller's checks).
 */
export async function appendUntilFull(
  append: (items: SequencedItem[]) => Promise<unknown>,
  id: string,
): Promise<{ acked: number; failure: unknown }> {
  for (let p = 0; p < 5_000; p++) {
    try {
      await append(itemsOf(id, p, 1));
    } catch (failure) {
      return { acked: p, failure };
    }
  }
  return { acked: 5_000, failure: undefined };
}

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

/** Runs every cleaning step, each on its own (one that fails does not stop the others), then reports failures. */
export async function cleanUp(steps: readonly [string, () => unknown][]): Promise<void> {
  const failed: string[] = [];
  for (const [step, run] of steps) {
    try {
      await run();
    } catch (error) {
      failed.push(`${step}: ${String(error)}`);
    }
  }
  if (failed.length > 0) throw new Error(`cleaning up failed: ${failed.join('; ')}`);
}
