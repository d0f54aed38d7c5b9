import { randomUUID } from 'node:crypto';
import type { ScenarioResult } from './metrics.js';
import type { ScenarioContext } from './runner.js';

/**
 * 5. Loading the entity of a long stream, without and then (where the implementation has them) with a
 * snapshot. Writing the stream is set-up, not timed.
 */
export async function load(context: ScenarioContext): Promise<ScenarioResult> {
  const { adapter, progress, measure } = context;
  const { streamLength, loads, snapshotLoads, snapshotWarmup, warmup, batchSize } = context.sizes;
  const stream = randomUUID();
  const step = Math.min(batchSize, 100);
  for (let v = 0; v < streamLength; v += step) {
    const specs = Array.from({ length: Math.min(step, streamLength - v) }, (_, i) =>
      context.spec(v + i === 0, 'load'),
    );
    await context.append(stream, v, adapter.prepare(specs));
    progress.step('load: writing the stream', v + specs.length, streamLength);
  }
  const loadAll = async (n: number, fromSnapshot: boolean, phase: string): Promise<number> => {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const version = await adapter.load(stream, fromSnapshot);
      if (version !== streamLength)
        throw new Error(`load: entity at version ${version}, expected ${streamLength}`);
      progress.step(`load ${fromSnapshot ? 'from snapshot ' : ''}${phase}`, i + 1, n);
    }
    return n / ((performance.now() - start) / 1000);
  };
  const start = performance.now();
  await loadAll(Math.max(1, Math.round(loads * warmup)), false, 'warm-up');
  const loadsPerSecond = await measure('load', () => loadAll(loads, false, 'measure'));
  const result = { scenario: 'load' as const, check: `entity at version ${streamLength}` };
  if (adapter.snapshots !== true) {
    return {
      ...result,
      metrics: { loadsPerSecond },
      missing: { snapshotLoadsPerSecond: adapter.snapshots },
      seconds: (performance.now() - start) / 1000,
    };
  }
  await adapter.takeSnapshot(stream);
  await loadAll(snapshotWarmup, true, 'warm-up');
  const snapshotLoadsPerSecond = await measure('load-snapshot', () =>
    loadAll(snapshotLoads, true, 'measure'),
  );
  return {
    ...result,
    metrics: { loadsPerSecond, snapshotLoadsPerSecond },
    seconds: (performance.now() - start) / 1000,
  };
}
