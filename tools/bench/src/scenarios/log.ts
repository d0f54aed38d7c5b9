import { randomUUID } from 'node:crypto';
import type { ScenarioResult } from './metrics.js';
import type { ScenarioContext } from './runner.js';

/**
 * 6. Reading the notification log from the start, decoding each event. The events the earlier
 * scenarios appended count; the rest are appended first, untimed.
 */
export async function log(context: ScenarioContext): Promise<ScenarioResult> {
  const { adapter, progress } = context;
  const { logEvents, pageSize, batchSize } = context.sizes;
  while (context.written < logEvents) {
    const n = Math.min(batchSize, Math.max(1, logEvents - context.written));
    await context.append(randomUUID(), 0, adapter.prepare(context.streamSpecs(n, 'log')));
    progress.step('log: writing events', Math.min(context.written, logEvents), logEvents);
  }
  // Warm-up: the first pages only.
  await adapter.readLog(Math.min(logEvents, pageSize * 5), pageSize);
  progress.step('log measure', 0, 1);
  const start = performance.now();
  const read = await context.measure('log', () => adapter.readLog(logEvents, pageSize));
  const seconds = (performance.now() - start) / 1000;
  if (read !== logEvents) throw new Error(`log: read ${read} events, expected ${logEvents}`);
  return {
    scenario: 'log',
    metrics: { logEventsPerSecond: read / seconds },
    check: `${read} events read in pages of ${pageSize}`,
    seconds,
  };
}
