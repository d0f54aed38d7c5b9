/**
 * The memory figures of `pnpm bench:memory`: a peak kept from samples, what one case reports, and the
 * verdict and tables made from the cases. Pure: the processes and stores are in case.ts and memory.ts.
 */
import type { BackendName } from '@es/servers';
import type { ReadName } from './options.js';

/** Bytes. */
export interface MemoryReading {
  readonly rss: number;
  readonly heapUsed: number;
}

/**
 * The highest RSS and heap seen. A read samples it itself every page (an in-memory store answers in
 * microtasks, so a timer would never fire during its read), and a timer samples it too while the read
 * waits on a server.
 */
export class PeakSampler {
  #rss = 0;
  #heapUsed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly read: () => MemoryReading) {}

  sample(): void {
    const { rss, heapUsed } = this.read();
    if (rss > this.#rss) this.#rss = rss;
    if (heapUsed > this.#heapUsed) this.#heapUsed = heapUsed;
  }

  get peak(): MemoryReading {
    return { rss: this.#rss, heapUsed: this.#heapUsed };
  }

  /** Samples every `intervalMs` until `stop()`; the timer keeps no process alive. */
  start(intervalMs: number): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }
}

/** What one read, in its own process, reports. */
export interface CaseResult {
  readonly backend: BackendName;
  readonly read: ReadName;
  /** Events in the store. */
  readonly size: number;
  /** Events the read went through (every one, or the case failed). */
  readonly events: number;
  /** After the fill and a full GC, before the read. */
  readonly baseline: MemoryReading;
  /** The highest sample during the read. */
  readonly peak: MemoryReading;
  /** Heap still used after the read and a full GC, minus the baseline's: what the read kept. */
  readonly retainedHeap: number;
  /** process.resourceUsage().maxRSS in bytes: the process's peak, including its fill (in memory). */
  readonly maxRss: number;
  /** The `--max-old-space-size` the read ran under, MB; none when it ran with Node's default. */
  readonly heapLimitMb?: number;
  readonly seconds: number;
}

/** A case that did not complete: the process's last words (out of memory, an error). */
export interface CaseFailure {
  readonly backend: BackendName;
  readonly read: ReadName;
  readonly size: number;
  readonly heapLimitMb?: number;
  readonly error: string;
}

export type CaseOutcome = CaseResult | CaseFailure;

export const isFailure = (outcome: CaseOutcome): outcome is CaseFailure => 'error' in outcome;

export const rssGrowth = (r: CaseResult): number => r.peak.rss - r.baseline.rss;
export const heapGrowth = (r: CaseResult): number => r.peak.heapUsed - r.baseline.heapUsed;

/**
 * More growth per extra event than this, between the smallest and the largest size, is memory that
 * follows the number of events: a decoded event alone takes over 100 bytes, so a read that keeps them
 * is far above it, while garbage-collector timing moves peaks by a few MB, a few bytes per event.
 */
export const BOUNDED_BYTES_PER_EVENT = 16;
/** Below this much extra growth nothing is concluded (at --quick sizes a GC's timing is all one sees). */
export const BOUNDED_SLACK_BYTES = 16 * 1024 * 1024;

/** True when `extraBytes` more, over `extraEvents` more events, does not follow the number of events. */
export function withinBound(extraBytes: number, extraEvents: number): boolean {
  return extraBytes <= Math.max(BOUNDED_SLACK_BYTES, BOUNDED_BYTES_PER_EVENT * extraEvents);
}

export interface Verdict {
  readonly backend: BackendName;
  readonly read: ReadName;
  /** Extra peak RSS growth per extra event from the smallest size to the largest, bytes. */
  readonly rssPerEvent: number;
  /** The same for the heap retained after the read. */
  readonly retainedPerEvent: number;
  readonly bounded: boolean;
}

/**
 * Per backend and read measured at two sizes or more: whether peak growth and retained heap follow the
 * number of events. A failed case at any size is not bounded.
 */
export function verdicts(outcomes: readonly CaseOutcome[]): (Verdict | CaseFailure)[] {
  const groups = new Map<string, CaseOutcome[]>();
  for (const o of outcomes) {
    const key = `${o.backend}/${o.read}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  const out: (Verdict | CaseFailure)[] = [];
  for (const group of groups.values()) {
    const failure = group.find(isFailure);
    if (failure) {
      out.push(failure);
      continue;
    }
    const results = (group as CaseResult[]).slice().sort((a, b) => a.size - b.size);
    if (results.length < 2) continue;
    const small = results[0]!;
    const large = results[results.length - 1]!;
    const extra = large.size - small.size;
    const extraRss = rssGrowth(large) - rssGrowth(small);
    const extraRetained = large.retainedHeap - small.retainedHeap;
    out.push({
      backend: small.backend,
      read: small.read,
      rssPerEvent: extraRss / extra,
      retainedPerEvent: extraRetained / extra,
      bounded: withinBound(extraRss, extra) && withinBound(extraRetained, extra),
    });
  }
  return out;
}

const MB = 1024 * 1024;
export const mb = (bytes: number): string => (bytes / MB).toFixed(1);
const count = (n: number): string => n.toLocaleString('en-US');

/** The Markdown table of the cases, in the order run, then one line per verdict. */
export function memoryMarkdown(outcomes: readonly CaseOutcome[]): string {
  const rows = outcomes.map((o) =>
    isFailure(o)
      ? `| ${o.backend} | ${o.read} | ${count(o.size)} | FAILED: ${o.error.replaceAll('|', '/')} | | | | | | ${o.heapLimitMb ?? 'default'} | |`
      : `| ${o.backend} | ${o.read} | ${count(o.size)} | ${mb(o.baseline.rss)} | ${mb(o.peak.rss)} | ${mb(rssGrowth(o))} | ${mb(o.baseline.heapUsed)} | ${mb(heapGrowth(o))} | ${mb(o.retainedHeap)} | ${o.heapLimitMb ?? 'default'} | ${o.seconds.toFixed(1)} |`,
  );
  const lines = verdicts(outcomes).map((v) =>
    'error' in v
      ? `- ${v.backend} ${v.read}: NOT BOUNDED (failed at ${count(v.size)} events)`
      : `- ${v.backend} ${v.read}: ${v.bounded ? 'bounded' : 'NOT BOUNDED'} (per extra event: peak RSS growth ${v.rssPerEvent.toFixed(1)} B, retained heap ${v.retainedPerEvent.toFixed(1)} B; bound ${BOUNDED_BYTES_PER_EVENT} B, or ${mb(BOUNDED_SLACK_BYTES)} MB in all${v.bounded && Math.max(v.rssPerEvent, v.retainedPerEvent) > BOUNDED_BYTES_PER_EVENT ? ': the sizes are too small to tell per event' : ''})`,
  );
  return [
    '| backend | read | events | baseline RSS MB | peak RSS MB | RSS growth MB | baseline heap MB | heap growth MB | heap retained after GC MB | heap limit MB | s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...lines,
  ].join('\n');
}
