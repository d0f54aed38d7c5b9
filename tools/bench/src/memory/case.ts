/**
 * One process of `pnpm bench:memory` (memory.ts starts it with --expose-gc): fills a store, drops it, or
 * measures one read over it. A read's process does nothing else, so its peak is the read's: it opens the
 * store (and, in memory, fills it: the store lives in the process), collects garbage, notes the
 * baseline, reads while sampling, and collects garbage again to see what the read kept.
 */
import type { BackendName } from '@es/servers';
import type { Connections } from '../backends.js';
import { progressLine } from '../progress.js';
import { type CaseResult, type MemoryReading, PeakSampler } from './figures.js';
import type { ReadName } from './options.js';
import { READ_FUNCTIONS } from './reads.js';
import { fill, openStore } from './stores.js';

interface JobBase {
  readonly backend: BackendName;
  readonly size: number;
  readonly connections: Connections;
}

export type MemoryJob =
  | (JobBase & { readonly kind: 'fill' })
  | (JobBase & { readonly kind: 'drop' })
  | (JobBase & {
      readonly kind: 'read';
      readonly read: ReadName;
      readonly pageSize: number;
      readonly heapLimitMb?: number;
    });

/** The variable through which a case's process receives its job. */
export const MEMORY_JOB_VARIABLE = 'ES_BENCH_MEMORY_JOB';

/** What a fill or a drop reports. */
export interface ChoreReport {
  readonly seconds: number;
}

function memory(): MemoryReading {
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

/** A full collection, twice (the first may leave finalisable objects to the second). */
function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc: the baseline is measured after a full GC');
  gc();
  gc();
}

async function runJob(job: MemoryJob): Promise<CaseResult | ChoreReport> {
  const started = performance.now();
  const progress = progressLine(`[memory ${job.backend} ${job.size}]`);
  const store = await openStore(job.backend, job.size, job.connections, { create: job.kind === 'fill' });
  try {
    if (job.kind === 'drop') {
      await store.drop();
      return { seconds: (performance.now() - started) / 1000 };
    }
    if (job.kind === 'fill') {
      await fill(store.events, job.size, progress);
      return { seconds: (performance.now() - started) / 1000 };
    }
    // In memory the store lives in the read's process: it is filled there, before the baseline.
    if (job.backend === 'memory') await fill(store.events, job.size, progress);

    collect();
    const baseline = memory();
    const sampler = new PeakSampler(memory);
    sampler.start(10);
    const t0 = performance.now();
    const events = await READ_FUNCTIONS[job.read]({
      events: store.events,
      size: job.size,
      pageSize: job.pageSize,
      sampler,
    });
    const seconds = (performance.now() - t0) / 1000;
    sampler.stop();
    collect();
    return {
      backend: job.backend,
      read: job.read,
      size: job.size,
      events,
      baseline,
      peak: sampler.peak,
      retainedHeap: memory().heapUsed - baseline.heapUsed,
      maxRss: process.resourceUsage().maxRSS * 1024,
      ...(job.heapLimitMb !== undefined ? { heapLimitMb: job.heapLimitMb } : {}),
      seconds,
    };
  } finally {
    await store.close();
  }
}

// As a child process: read the job from the environment, send the report to the parent, exit.
if (process.send && process.env[MEMORY_JOB_VARIABLE]) {
  const job = JSON.parse(process.env[MEMORY_JOB_VARIABLE]) as MemoryJob;
  runJob(job).then(
    (report) => process.send!(report, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
