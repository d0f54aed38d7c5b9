import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { EsError, NotificationLogReader, OutcomeUnknownError, SequencedItem } from '@es/core';
import type { SoakBackend } from './backends.js';

export interface SoakOptions {
  /** How long the mixed load runs (the final check comes after). */
  seconds: number;
  writers?: number;
  readers?: number;
  /** Followers of the notification log (on backends that keep one). */
  followers?: number;
  /** A fault every this many milliseconds (on backends that have faults). */
  faultEveryMs?: number;
}

/** What a soak did and found. `lost`, `untyped` and the log's `missing`/`duplicates` must all be 0. */
export interface SoakReport {
  backend: string;
  seconds: number;
  appends: number;
  itemsAcknowledged: number;
  reads: number;
  notificationsFollowed: number;
  /** Errors by class name, all typed (EsError subclasses) unless counted in `untyped`. */
  errors: Record<string, number>;
  untyped: number;
  faults: Record<string, number>;
  /** Appends that ended in OutcomeUnknownError, resolved afterwards by reading. */
  unknownOutcomes: { applied: number; notApplied: number };
  /** Acknowledged items missing from the store at the end. */
  lost: number;
  /** Reads during the run that did not show an item acknowledged before they started. */
  readMisses: number;
  /** Sequences whose positions are not 0..n-1. */
  gaps: number;
  /** The notification log (undefined without one): acknowledged items missing or there twice; ids out of order. */
  log: { missing: number; duplicates: number; outOfOrder: number; followersMissed: number } | undefined;
  /** The longest time from a fault to the next acknowledged append, in ms. */
  maxRecoveryMs: number;
}

const key = (id: string, position: number) => `${id}:${position}`;

/** Runs the mixed load with faults on one backend, then checks that nothing acknowledged was lost. */
export async function runSoak(backend: SoakBackend, options: SoakOptions): Promise<SoakReport> {
  const { seconds, writers = 4, readers = 2, followers = 2, faultEveryMs = 1500 } = options;
  const deadline = Date.now() + seconds * 1000;
  const running = () => Date.now() < deadline;
  const errors: Record<string, number> = {};
  const faults: Record<string, number> = {};
  let untyped = 0;
  const count = (error: unknown): void => {
    if (error instanceof EsError) errors[error.name] = (errors[error.name] ?? 0) + 1;
    else {
      untyped += 1;
      const name = `untyped ${(error as Error)?.name}: ${String((error as Error)?.message).slice(0, 80)}`;
      errors[name] = (errors[name] ?? 0) + 1;
    }
  };
  /** Acknowledged positions by sequence id. */
  const acked = new Map<string, Set<number>>();
  const unknown: SequencedItem[][] = [];
  let appends = 0;
  let itemsAcknowledged = 0;
  let reads = 0;
  let readMisses = 0;
  let notificationsFollowed = 0;
  let lastFault: number | undefined;
  let maxRecoveryMs = 0;

  /** The head of a sequence as stored, read until a read succeeds. */
  async function storedHead(id: string): Promise<number> {
    for (;;) {
      try {
        const [last] = await backend.store().getItems(id, { descending: true, limit: 1 });
        return last === undefined ? -1 : last.position;
      } catch (error) {
        count(error);
        await sleep(20);
      }
    }
  }

  const shared = randomUUID(); // every writer also appends here: conflicts are part of the load
  async function writer(w: number): Promise<void> {
    const own = Array.from({ length: 4 }, () => randomUUID());
    const heads = new Map<string, number>();
    while (running()) {
      // An in-process store answers in microtasks: let timers (faults, deadlines) and the others run.
      await nextTurn();
      const id = Math.random() < 0.2 ? shared : own[Math.floor(Math.random() * own.length)]!;
      const head = heads.get(id) ?? (await storedHead(id));
      const n = 1 + Math.floor(Math.random() * 3);
      const items = Array.from(
        { length: n },
        (_, i) => new SequencedItem(id, head + 1 + i, 'soak.Happened', `{"w":${w},"p":${head + 1 + i}}`),
      );
      try {
        await backend.store().append(items);
        appends += 1;
        itemsAcknowledged += n;
        let positions = acked.get(id);
        if (positions === undefined) acked.set(id, (positions = new Set()));
        for (const item of items) positions.add(item.position);
        heads.set(id, head + n);
        if (lastFault !== undefined) {
          maxRecoveryMs = Math.max(maxRecoveryMs, Date.now() - lastFault);
          lastFault = undefined;
        }
      } catch (error) {
        count(error);
        if (error instanceof OutcomeUnknownError) unknown.push(items);
        heads.delete(id); // read the head again: another writer, or this unknown write, may have moved it
        await sleep(5);
      }
    }
  }

  async function reader(): Promise<void> {
    while (running()) {
      await nextTurn();
      const ids = [...acked.keys()];
      if (ids.length === 0) {
        await sleep(10);
        continue;
      }
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      const before = [...acked.get(id)!];
      try {
        const stored = new Set((await backend.store().getItems(id)).map((i) => i.position));
        reads += 1;
        readMisses += before.filter((p) => !stored.has(p)).length;
      } catch (error) {
        count(error);
        await sleep(5);
      }
    }
  }

  /** Polls the log with a NotificationLogReader from its checkpoint, checking order and that nothing comes twice. */
  const followed: Set<string>[] = [];
  /** Resolves when the writers are done and the log holds every acknowledged append (backend.settle). */
  let settled: Promise<unknown> = Promise.resolve();
  let settleFailed = false;
  let outOfOrder = 0;
  let duplicates = 0;
  async function follower(): Promise<void> {
    const seen = new Set<string>();
    followed.push(seen);
    let checkpoint = 0;
    let caughtUp = false;
    while (running() || !caughtUp) {
      await nextTurn();
      try {
        const reader = new NotificationLogReader(backend.log()!);
        for await (const page of reader.readPages({ after: checkpoint, pageSize: 200 })) {
          for (const n of page) {
            if (n.id <= checkpoint) outOfOrder += 1;
            const k = key(n.sequenceId, n.position);
            if (seen.has(k)) duplicates += 1;
            seen.add(k);
            checkpoint = n.id;
            notificationsFollowed += 1;
          }
          await nextTurn();
        }
        // Caught up means: with the writers done and the log settled, at its head (before that, the
        // head of a feed the sequencer fills after commit may not hold every acknowledged append yet).
        if (!running()) {
          await settled;
          caughtUp = checkpoint >= (await reader.maxNotificationId());
        }
        await sleep(20);
      } catch (error) {
        // The log never settled: runSoak fails with that error, and the follower stops with it.
        if (settleFailed) return;
        count(error);
        await sleep(20);
      }
    }
  }

  async function injector(): Promise<void> {
    const names = Object.keys(backend.faults);
    if (names.length === 0) return;
    while (running()) {
      await sleep(faultEveryMs * (0.5 + Math.random()));
      if (!running()) return;
      const name = names[Math.floor(Math.random() * names.length)]!;
      try {
        await backend.faults[name]!();
        faults[name] = (faults[name] ?? 0) + 1;
        lastFault ??= Date.now();
      } catch (error) {
        const failed = `${name} (failed: ${(error as Error).message})`;
        faults[failed] = (faults[failed] ?? 0) + 1;
      }
    }
  }

  const hasLog = backend.log() !== undefined;
  const started = Date.now();
  const writersDone = Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  settled = writersDone.then(() => retry(async () => backend.settle?.(), count));
  settled.catch(() => (settleFailed = true));
  await Promise.all([
    writersDone,
    settled,
    ...Array.from({ length: readers }, () => reader()),
    ...(hasLog ? Array.from({ length: followers }, () => follower()) : []),
    injector(),
  ]);
  const elapsed = (Date.now() - started) / 1000;

  // The final check, with the faults over: every acknowledged item stored, sequences contiguous,
  // unknown outcomes resolved, and the log holding each acknowledged item exactly once.
  let lost = 0;
  let gaps = 0;
  const stored = new Map<string, Set<number>>();
  for (const id of new Set([...acked.keys(), ...unknown.map((b) => b[0]!.sequenceId)])) {
    const positions = await readAll(backend, id, count);
    stored.set(id, new Set(positions));
    if (positions.some((p, i) => p !== i)) gaps += 1;
    for (const p of acked.get(id) ?? []) if (!stored.get(id)!.has(p)) lost += 1;
  }
  const unknownOutcomes = { applied: 0, notApplied: 0 };
  for (const batch of unknown) {
    const positions = stored.get(batch[0]!.sequenceId)!;
    if (positions.has(batch[0]!.position)) unknownOutcomes.applied += 1;
    else unknownOutcomes.notApplied += 1;
  }
  let log: SoakReport['log'];
  if (hasLog) {
    const inLog = new Map<string, number>();
    let next = 1;
    for (;;) {
      const page = await retry(() => backend.log()!.selectNotifications(next, 1000), count);
      for (const n of page) {
        const k = key(n.sequenceId, n.position);
        inLog.set(k, (inLog.get(k) ?? 0) + 1);
        next = n.id + 1;
      }
      if (page.length < 1000) break;
    }
    let missing = 0;
    let twice = 0;
    let followersMissed = 0;
    for (const [id, positions] of acked) {
      for (const p of positions) {
        const times = inLog.get(key(id, p)) ?? 0;
        if (times === 0) missing += 1;
        if (times > 1) twice += 1;
        for (const seen of followed) if (!seen.has(key(id, p))) followersMissed += 1;
      }
    }
    log = { missing, duplicates: twice + duplicates, outOfOrder, followersMissed };
  }
  return {
    backend: backend.name,
    seconds: Math.round(elapsed * 10) / 10,
    appends,
    itemsAcknowledged,
    reads,
    notificationsFollowed,
    errors,
    untyped,
    faults,
    unknownOutcomes,
    lost,
    readMisses,
    gaps,
    log,
    maxRecoveryMs,
  };
}

async function retry<T>(run: () => Promise<T>, count: (error: unknown) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      count(error);
      if (attempt > 200) throw error;
      await sleep(50);
    }
  }
}

async function readAll(backend: SoakBackend, id: string, count: (error: unknown) => void): Promise<number[]> {
  return (await retry(() => backend.store().getItems(id), count)).map((i) => i.position);
}

/** True when the report shows nothing lost, nothing untyped, and the log exact. */
export function isClean(report: SoakReport): boolean {
  return (
    report.lost === 0 &&
    report.untyped === 0 &&
    report.readMisses === 0 &&
    report.gaps === 0 &&
    (report.log === undefined ||
      (report.log.missing === 0 &&
        report.log.duplicates === 0 &&
        report.log.outOfOrder === 0 &&
        report.log.followersMissed === 0))
  );
}
