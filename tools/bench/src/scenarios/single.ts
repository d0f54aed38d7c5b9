import { randomUUID } from 'node:crypto';
import type { ScenarioResult } from './metrics.js';
import type { ScenarioContext } from './runner.js';

/**
 * 1. Single-event appends, one writer, each to a new stream. One writer runs one append at a time, so
 * only the appends are timed: each is prepared (its rows serialised, for the raw driver) just before,
 * off the clock, and nothing prepared piles up in the heap.
 */
export async function single(context: ScenarioContext, n: number, phase: string): Promise<ScenarioResult> {
  const latencies = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const stream = randomUUID();
    const events = context.adapter.prepare([context.spec(true, 'single')]);
    const t0 = performance.now();
    await context.append(stream, 0, events);
    latencies[i] = performance.now() - t0;
    total += latencies[i]!;
    context.progress.step(`single ${phase}`, i + 1, n);
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

/** The value below which a share `p` of the sorted values fall. */
export function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
