import { randomUUID } from 'node:crypto';
import type { ScenarioResult } from './metrics.js';
import type { ScenarioContext } from './runner.js';

/** 2. Batches of `batchSize` events, each to a new stream; only the appends are timed. */
export async function batch(context: ScenarioContext, n: number, phase: string): Promise<ScenarioResult> {
  const { batchSize } = context.sizes;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const stream = randomUUID();
    const events = context.adapter.prepare(context.streamSpecs(batchSize, 'batch'));
    const t0 = performance.now();
    await context.append(stream, 0, events);
    total += performance.now() - t0;
    context.progress.step(`batch ${phase}`, i + 1, n);
  }
  const seconds = total / 1000;
  return { scenario: 'batch', metrics: { batchEventsPerSecond: (n * batchSize) / seconds }, seconds };
}
