/** How much work each scenario does. The warm-up runs the same code on `warmup` times the size first. */
export interface Sizes {
  /** Scenario 1: single-event appends, each to a new stream. */
  single: number;
  /** Scenario 2: batches, each to a new stream. */
  batches: number;
  batchSize: number;
  /** Scenarios 3 and 4: concurrent writers, and the appends each makes. */
  writers: number;
  writerAppends: number;
  /** Scenario 4: the streams the writers contend on. */
  contendedStreams: number;
  /** Scenario 5: the stream's length, and the loads measured without and with a snapshot. */
  streamLength: number;
  loads: number;
  snapshotLoads: number;
  /**
   * Scenario 5: loads from a snapshot before the measured ones, the same for every implementation. A
   * count of its own, not `warmup` times the measured loads: a library's path of a few dozen functions
   * is compiled by V8 one function at a time over its first ~2,000 loads (a raw driver's is two native
   * calls), and 20 loads measured the interpreter and the compiler at work (docs/benchmarks.md, Round 2e:
   * SQLite loads).
   */
  snapshotWarmup: number;
  /** Scenario 6: events read from the notification log, and its page size. */
  logEvents: number;
  pageSize: number;
  /** Warm-up size as a fraction of the measured size. */
  warmup: number;
}

/** The sizes a backend's `scale` multiplies (counts of operations, not their shape). */
export const SCALED = [
  'single',
  'batches',
  'writerAppends',
  'loads',
  'snapshotLoads',
  'snapshotWarmup',
  'logEvents',
] as const satisfies readonly (keyof Sizes)[];

export const FULL_SIZES: Sizes = {
  single: 2000,
  batches: 300,
  batchSize: 100,
  writers: 8,
  writerAppends: 250,
  contendedStreams: 10,
  streamLength: 10_000,
  loads: 10,
  snapshotLoads: 200,
  snapshotWarmup: 2000,
  logEvents: 50_000,
  pageSize: 1000,
  warmup: 0.1,
};

/** CI's breakage check: every code path, tiny sizes, seconds per backend. */
export const QUICK_SIZES: Sizes = {
  single: 20,
  batches: 5,
  batchSize: 100,
  writers: 8,
  writerAppends: 5,
  contendedStreams: 10,
  streamLength: 500,
  loads: 2,
  snapshotLoads: 5,
  snapshotWarmup: 1,
  logEvents: 1000,
  pageSize: 100,
  warmup: 0.2,
};

/**
 * The sizes one backend runs with: the preset (quick or full), its counts multiplied by the backend's
 * scale, then the sizes given on the command line, taken as they are.
 */
export function sizesFor(quick: boolean, scale: number, given: Partial<Sizes>): Sizes {
  const sizes = { ...(quick ? QUICK_SIZES : FULL_SIZES) };
  for (const key of SCALED) sizes[key] = sizes[key] * scale;
  return { ...sizes, ...given };
}
