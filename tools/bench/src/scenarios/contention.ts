import { randomUUID } from 'node:crypto';
import type { ScenarioResult } from './metrics.js';
import type { ScenarioContext } from './runner.js';

/**
 * 4. Concurrent writers contending on a few streams: each appends at the version it believes current,
 * and on a conflict re-reads the stream's version and tries again. Afterwards nothing may be lost or
 * duplicated: each stream holds its Created event and exactly the appends acknowledged to it, at
 * contiguous positions.
 */
export async function contention(
  context: ScenarioContext,
  appends: number,
  phase: string,
): Promise<ScenarioResult> {
  const { adapter } = context;
  const { writers, contendedStreams } = context.sizes;
  const streams = Array.from({ length: contendedStreams }, () => randomUUID());
  const created = new Map<string, string>();
  for (const stream of streams) {
    const spec = context.spec(true, 'contention');
    created.set(stream, spec.value);
    await context.append(stream, 0, adapter.prepare([spec]));
  }
  const plans = Array.from({ length: writers }, (_, w) => {
    const specs = Array.from({ length: appends }, () => context.spec(false, `contention-w${w}`));
    return { specs, events: adapter.prepare(specs), random: mulberry32(w + 1) };
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
        if (await adapter.append(stream, version, [events[i]])) {
          context.appended(1);
          known.set(stream, version + 1);
          stored.get(stream)!.push(specs[i]!.value);
          i += 1;
          context.progress.step(`contention ${phase}`, ++done, writers * appends);
        } else {
          conflicts += 1;
          known.set(stream, await adapter.streamVersion(stream, version));
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  let total = 0;
  for (const stream of streams) {
    const back = await adapter.readStream(stream);
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

/** A small seeded PRNG, so that every implementation sees the same sequence of stream choices. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
