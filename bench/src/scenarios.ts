import { randomUUID } from 'node:crypto';
import type { BenchAdapter, EventSpec, ScenarioName } from './adapter.js';

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
  logEvents: 1000,
  pageSize: 100,
  warmup: 0.2,
};

/** One scenario's figures. Keys are those of METRICS. */
export interface ScenarioResult {
  readonly scenario: ScenarioName;
  readonly metrics: Partial<Record<MetricKey, number>>;
  /** What was verified after the run (e.g. nothing lost or duplicated). */
  readonly check?: string;
  /** With several rounds, the main figure of each (this result is the median one). */
  readonly runs?: number[];
  /** Figures this implementation cannot give, with the reason. */
  readonly missing?: Partial<Record<MetricKey, string>>;
  readonly seconds: number;
}

export type MetricKey =
  | 'singleEventsPerSecond'
  | 'singleP50Ms'
  | 'singleP99Ms'
  | 'batchEventsPerSecond'
  | 'writersEventsPerSecond'
  | 'contentionEventsPerSecond'
  | 'contentionConflicts'
  | 'loadsPerSecond'
  | 'snapshotLoadsPerSecond'
  | 'logEventsPerSecond';

export interface MetricDefinition {
  readonly key: MetricKey;
  readonly scenario: ScenarioName;
  readonly label: (sizes: Sizes) => string;
  /** How a ratio to a baseline is read: for `higher`, library / baseline; for `lower`, baseline / library. */
  readonly better: 'higher' | 'lower' | 'none';
  readonly digits: number;
}

/** The table's rows, in order. */
export const METRICS: readonly MetricDefinition[] = [
  {
    key: 'singleEventsPerSecond',
    scenario: 'single',
    label: () => '1. single-event appends, new streams, 1 writer (events/s)',
    better: 'higher',
    digits: 0,
  },
  { key: 'singleP50Ms', scenario: 'single', label: () => '   latency p50 (ms)', better: 'lower', digits: 3 },
  { key: 'singleP99Ms', scenario: 'single', label: () => '   latency p99 (ms)', better: 'lower', digits: 3 },
  {
    key: 'batchEventsPerSecond',
    scenario: 'batch',
    label: (s) => `2. ${s.batchSize}-event batch appends, new streams (events/s)`,
    better: 'higher',
    digits: 0,
  },
  {
    key: 'writersEventsPerSecond',
    scenario: 'writers',
    label: (s) => `3. ${s.writers} writers, own streams, expected version (events/s)`,
    better: 'higher',
    digits: 0,
  },
  {
    key: 'contentionEventsPerSecond',
    scenario: 'contention',
    label: (s) => `4. ${s.writers} writers contending on ${s.contendedStreams} streams (events/s)`,
    better: 'higher',
    digits: 0,
  },
  {
    key: 'contentionConflicts',
    scenario: 'contention',
    label: () => '   conflicts seen (retried)',
    better: 'none',
    digits: 0,
  },
  {
    key: 'loadsPerSecond',
    scenario: 'load',
    label: (s) => `5. load the entity of a ${s.streamLength.toLocaleString('en-US')}-event stream (loads/s)`,
    better: 'higher',
    digits: 1,
  },
  {
    key: 'snapshotLoadsPerSecond',
    scenario: 'load',
    label: () => '   the same, from a snapshot (loads/s)',
    better: 'higher',
    digits: 1,
  },
  {
    key: 'logEventsPerSecond',
    scenario: 'log',
    label: (s) =>
      `6. notification log from the start, pages of ${s.pageSize.toLocaleString('en-US')} (events/s)`,
    better: 'higher',
    digits: 0,
  },
];

/** The figure that decides which run is the median one. */
export const MAIN_METRIC: Record<ScenarioName, MetricKey> = {
  single: 'singleEventsPerSecond',
  batch: 'batchEventsPerSecond',
  writers: 'writersEventsPerSecond',
  contention: 'contentionEventsPerSecond',
  load: 'loadsPerSecond',
  log: 'logEventsPerSecond',
};

/** Wraps each measured pass (not the set-up, not the warm-up): the worker profiles there when asked. */
export type Measure = <T>(label: string, pass: () => Promise<T>) => Promise<T>;

/** Progress reporting: `step` is called often and throttles itself. */
export interface Progress {
  step(what: string, done: number, total: number): void;
}

/** A run of scenarios against one adapter. Counts the events appended, for the log scenario. */
export class ScenarioRunner {
  private written = 0;
  private counter = 0;

  constructor(
    private readonly adapter: BenchAdapter,
    private readonly sizes: Sizes,
    private readonly progress: Progress,
    private readonly measure: Measure = (_label, pass) => pass(),
  ) {}

  /** Runs a scenario: a warm-up on a fraction of the size, then the measured pass. */
  async run(scenario: ScenarioName): Promise<ScenarioResult> {
    const { sizes } = this;
    const warm = (n: number) => Math.max(1, Math.round(n * sizes.warmup));
    switch (scenario) {
      case 'single':
        await this.single(warm(sizes.single), 'warm-up');
        return this.measure('single', () => this.single(sizes.single));
      case 'batch':
        await this.batch(warm(sizes.batches), 'warm-up');
        return this.measure('batch', () => this.batch(sizes.batches));
      case 'writers':
        await this.writers(warm(sizes.writerAppends), 'warm-up');
        return this.measure('writers', () => this.writers(sizes.writerAppends));
      case 'contention':
        await this.contention(warm(sizes.writerAppends), 'warm-up');
        return this.measure('contention', () => this.contention(sizes.writerAppends));
      case 'load':
        return this.load();
      case 'log':
        return this.log();
    }
  }

  // --- 1. single-event appends, one writer, each to a new stream ---

  // One writer runs one append at a time, so only the appends are timed: each is prepared (its rows
  // serialised, for the raw driver) just before, off the clock, and nothing prepared piles up in the heap.

  private async single(n: number, phase = 'measure'): Promise<ScenarioResult> {
    const latencies = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const stream = randomUUID();
      const events = this.adapter.prepare([this.spec(true, 'single')]);
      const t0 = performance.now();
      await this.append(stream, 0, events);
      latencies[i] = performance.now() - t0;
      total += latencies[i]!;
      this.progress.step(`single ${phase}`, i + 1, n);
    }
    const seconds = total / 1000;
    latencies.sort();
    return {
      scenario: 'single',
      metrics: {
        singleEventsPerSecond: n / seconds,
        singleP50Ms: percentile(latencies, 0.5),
        singleP99Ms: percentile(latencies, 0.99),
      },
      seconds,
    };
  }

  // --- 2. batches of `batchSize` events, each to a new stream ---

  private async batch(n: number, phase = 'measure'): Promise<ScenarioResult> {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const stream = randomUUID();
      const events = this.adapter.prepare(this.streamSpecs(this.sizes.batchSize, 'batch'));
      const t0 = performance.now();
      await this.append(stream, 0, events);
      total += performance.now() - t0;
      this.progress.step(`batch ${phase}`, i + 1, n);
    }
    const seconds = total / 1000;
    return {
      scenario: 'batch',
      metrics: { batchEventsPerSecond: (n * this.sizes.batchSize) / seconds },
      seconds,
    };
  }

  // --- 3. concurrent writers, each appending one event at a time to its own stream ---

  private async writers(appends: number, phase = 'measure'): Promise<ScenarioResult> {
    const { writers } = this.sizes;
    const plans = Array.from({ length: writers }, () => ({
      stream: randomUUID(),
      events: this.adapter.prepare(this.streamSpecs(appends, 'writers')),
    }));
    let done = 0;
    const start = performance.now();
    await Promise.all(
      plans.map(async ({ stream, events }) => {
        for (let v = 0; v < appends; v++) {
          await this.append(stream, v, [events[v]]);
          this.progress.step(`writers ${phase}`, ++done, writers * appends);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    // Each stream must hold exactly its writer's events, in order.
    for (const { stream } of plans) {
      const back = await this.adapter.readStream(stream);
      if (back.length !== appends || back.some((e, i) => e.position !== i)) {
        throw new Error(
          `writers: stream ${stream} holds ${back.length} events, expected ${appends} at positions 0..${appends - 1}`,
        );
      }
    }
    return {
      scenario: 'writers',
      metrics: { writersEventsPerSecond: (writers * appends) / seconds },
      check: 'every stream complete and in order',
      seconds,
    };
  }

  // --- 4. concurrent writers contending on a few streams, with expected versions and retries ---

  private async contention(appends: number, phase = 'measure'): Promise<ScenarioResult> {
    const { writers, contendedStreams } = this.sizes;
    const streams = Array.from({ length: contendedStreams }, () => randomUUID());
    const created = new Map<string, string>();
    for (const stream of streams) {
      const spec = this.spec(true, 'contention');
      created.set(stream, spec.value);
      await this.append(stream, 0, this.adapter.prepare([spec]));
    }
    const plans = Array.from({ length: writers }, (_, w) => {
      const specs = Array.from({ length: appends }, () => this.spec(false, `contention-w${w}`));
      return { specs, events: this.adapter.prepare(specs), random: mulberry32(w + 1) };
    });
    const stored = new Map<string, string[]>(streams.map((s) => [s, []]));
    let conflicts = 0;
    let done = 0;
    const start = performance.now();
    await Promise.all(
      plans.map(async ({ specs, events, random }) => {
        // A writer's belief of each stream's version: it starts right, and goes stale as others write.
        const known = new Map<string, number>(streams.map((s) => [s, 1]));
        for (let i = 0; i < appends;) {
          const stream = streams[Math.floor(random() * contendedStreams)]!;
          const version = known.get(stream)!;
          if (await this.adapter.append(stream, version, [events[i]])) {
            this.written += 1;
            known.set(stream, version + 1);
            stored.get(stream)!.push(specs[i]!.value);
            i += 1;
            this.progress.step(`contention ${phase}`, ++done, writers * appends);
          } else {
            conflicts += 1;
            known.set(stream, await this.adapter.streamVersion(stream, version));
          }
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    // Nothing lost, nothing duplicated: each stream holds its Created event and exactly the appends that
    // were acknowledged to it, at contiguous positions.
    let total = 0;
    for (const stream of streams) {
      const back = await this.adapter.readStream(stream);
      const expected = [created.get(stream)!, ...stored.get(stream)!].sort();
      const actual = back.map((e) => e.value).sort();
      const contiguous = back.every((e, i) => e.position === i);
      if (!contiguous || actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
        throw new Error(
          `contention: stream ${stream} holds ${actual.length} events (${contiguous ? 'contiguous' : 'NOT contiguous'}), ` +
            `expected the ${expected.length} acknowledged: events were lost or duplicated`,
        );
      }
      total += back.length - 1;
    }
    if (total !== writers * appends)
      throw new Error(`contention: ${total} events stored, ${writers * appends} acknowledged`);
    return {
      scenario: 'contention',
      metrics: { contentionEventsPerSecond: (writers * appends) / seconds, contentionConflicts: conflicts },
      check: `${total} acknowledged events all stored once, positions contiguous`,
      seconds,
    };
  }

  // --- 5. loading an entity from a long stream, with and without a snapshot ---

  private async load(): Promise<ScenarioResult> {
    const { streamLength, loads, snapshotLoads, warmup } = this.sizes;
    const stream = randomUUID();
    const step = Math.min(this.sizes.batchSize, 100);
    for (let v = 0; v < streamLength; v += step) {
      const specs = Array.from({ length: Math.min(step, streamLength - v) }, (_, i) =>
        this.spec(v + i === 0, 'load'),
      );
      await this.append(stream, v, this.adapter.prepare(specs));
      this.progress.step('load: writing the stream', v + specs.length, streamLength);
    }
    const loadAll = async (n: number, fromSnapshot: boolean, phase: string): Promise<number> => {
      const start = performance.now();
      for (let i = 0; i < n; i++) {
        const version = await this.adapter.load(stream, fromSnapshot);
        if (version !== streamLength)
          throw new Error(`load: entity at version ${version}, expected ${streamLength}`);
        this.progress.step(`load ${fromSnapshot ? 'from snapshot ' : ''}${phase}`, i + 1, n);
      }
      return n / ((performance.now() - start) / 1000);
    };
    const start = performance.now();
    await loadAll(Math.max(1, Math.round(loads * warmup)), false, 'warm-up');
    const loadsPerSecond = await this.measure('load', () => loadAll(loads, false, 'measure'));
    const result = { scenario: 'load' as const, check: `entity at version ${streamLength}` };
    if (this.adapter.snapshots !== true) {
      return {
        ...result,
        metrics: { loadsPerSecond },
        missing: { snapshotLoadsPerSecond: this.adapter.snapshots },
        seconds: (performance.now() - start) / 1000,
      };
    }
    await this.adapter.takeSnapshot(stream);
    await loadAll(Math.max(1, Math.round(snapshotLoads * warmup)), true, 'warm-up');
    const snapshotLoadsPerSecond = await this.measure('load-snapshot', () =>
      loadAll(snapshotLoads, true, 'measure'),
    );
    return {
      ...result,
      metrics: { loadsPerSecond, snapshotLoadsPerSecond },
      seconds: (performance.now() - start) / 1000,
    };
  }

  // --- 6. reading the notification log from the start ---

  private async log(): Promise<ScenarioResult> {
    const { logEvents, pageSize, batchSize } = this.sizes;
    while (this.written < logEvents) {
      const n = Math.min(batchSize, Math.max(1, logEvents - this.written));
      await this.append(randomUUID(), 0, this.adapter.prepare(this.streamSpecs(n, 'log')));
      this.progress.step('log: writing events', Math.min(this.written, logEvents), logEvents);
    }
    await this.adapter.readLog(Math.min(logEvents, pageSize * 5), pageSize);
    this.progress.step('log measure', 0, 1);
    const start = performance.now();
    const read = await this.measure('log', () => this.adapter.readLog(logEvents, pageSize));
    const seconds = (performance.now() - start) / 1000;
    if (read !== logEvents) throw new Error(`log: read ${read} events, expected ${logEvents}`);
    return {
      scenario: 'log',
      metrics: { logEventsPerSecond: read / seconds },
      check: `${read} events read in pages of ${pageSize}`,
      seconds,
    };
  }

  // --- helpers ---

  private async append(stream: string, version: number, events: readonly unknown[]): Promise<void> {
    if (!(await this.adapter.append(stream, version, events))) {
      throw new Error(`unexpected concurrency conflict appending at version ${version} of ${stream}`);
    }
    this.written += events.length;
  }

  /** A unique, recognisable value of about 64 characters. */
  private spec(created: boolean, tag: string): EventSpec {
    const id = `${tag}:${++this.counter}:`;
    return { created, value: id.padEnd(64, '.') };
  }

  /** The events of a new stream: Created, then changes. */
  private streamSpecs(n: number, tag: string): EventSpec[] {
    return Array.from({ length: n }, (_, i) => this.spec(i === 0, tag));
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** A small seeded PRNG, so that every implementation sees the same sequence of stream choices. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
