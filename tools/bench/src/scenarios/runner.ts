import type { BenchAdapter, EventSpec, ScenarioName } from '../adapter.js';
import { batch } from './batch.js';
import { contention } from './contention.js';
import { load } from './load.js';
import { log } from './log.js';
import type { ScenarioResult } from './metrics.js';
import { single } from './single.js';
import type { Sizes } from './sizes.js';
import { writers } from './writers.js';

/** Wraps each measured pass (not the set-up, not the warm-up): the worker profiles there when asked. */
export type Measure = <T>(label: string, pass: () => Promise<T>) => Promise<T>;

/** Progress reporting: `step` is called often and throttles itself. */
export interface Progress {
  step(what: string, done: number, total: number): void;
}

/** What a scenario works with: one adapter, the sizes, and the run's bookkeeping. */
export interface ScenarioContext {
  readonly adapter: BenchAdapter;
  readonly sizes: Sizes;
  readonly progress: Progress;
  readonly measure: Measure;
  /** Events appended so far in this run, by every scenario (the log scenario reads them back). */
  readonly written: number;
  /** Appends where no conflict can happen: a conflict is a failure. Counts what was written. */
  append(stream: string, version: number, events: readonly unknown[]): Promise<void>;
  /** Counts events appended through the adapter directly (by a scenario that expects conflicts). */
  appended(events: number): void;
  /** A new event: a unique, recognisable value of about 64 characters. */
  spec(created: boolean, tag: string): EventSpec;
  /** The events of a new stream: Created, then changes. */
  streamSpecs(n: number, tag: string): EventSpec[];
}

/** A pass of `n` operations: the warm-up or the measured one. */
type Pass = (context: ScenarioContext, n: number, phase: string) => Promise<ScenarioResult>;

/** The scenarios made of repeated operations, and the size that counts them. */
const REPEATED: Record<Exclude<ScenarioName, 'load' | 'log'>, [Pass, keyof Sizes]> = {
  single: [single, 'single'],
  batch: [batch, 'batches'],
  writers: [writers, 'writerAppends'],
  contention: [contention, 'writerAppends'],
};

/** Runs scenarios against one adapter, in one process, one after the other. */
export class ScenarioRunner implements ScenarioContext {
  private count = 0;
  private counter = 0;

  constructor(
    readonly adapter: BenchAdapter,
    readonly sizes: Sizes,
    readonly progress: Progress,
    readonly measure: Measure = (_label, pass) => pass(),
  ) {}

  get written(): number {
    return this.count;
  }

  /**
   * Runs a scenario. Those made of repeated operations run a warm-up pass on a fraction of their size
   * first; load and log warm up within (their set-up is not repeated).
   */
  async run(scenario: ScenarioName): Promise<ScenarioResult> {
    if (scenario === 'load') return load(this);
    if (scenario === 'log') return log(this);
    const [pass, sizeKey] = REPEATED[scenario];
    const size = this.sizes[sizeKey];
    await pass(this, Math.max(1, Math.round(size * this.sizes.warmup)), 'warm-up');
    return this.measure(scenario, () => pass(this, size, 'measure'));
  }

  async append(stream: string, version: number, events: readonly unknown[]): Promise<void> {
    if (!(await this.adapter.append(stream, version, events))) {
      throw new Error(`unexpected concurrency conflict appending at version ${version} of ${stream}`);
    }
    this.count += events.length;
  }

  appended(events: number): void {
    this.count += events;
  }

  spec(created: boolean, tag: string): EventSpec {
    const id = `${tag}:${++this.counter}:`;
    return { created, value: id.padEnd(64, '.') };
  }

  streamSpecs(n: number, tag: string): EventSpec[] {
    return Array.from({ length: n }, (_, i) => this.spec(i === 0, tag));
  }
}
