import { randomUUID } from 'node:crypto';
import type { ScenarioResult } from './metrics.js';
import type { ScenarioContext } from './runner.js';

/**
 * 3. Concurrent writers, each appending one event at a time to its own stream at the expected version;
 * afterwards each stream must hold exactly its writer's events, in order.
 */
export async function writers(
  context: ScenarioContext,
  appends: number,
  phase: string,
): Promise<ScenarioResult> {
  const { writers } = context.sizes;
  const plans = Array.from({ length: writers }, () => ({
    stream: randomUUID(),
    events: context.adapter.prepare(context.streamSpecs(appends, 'writers')),
  }));
  let done = 0;
  const start = performance.now();
  await Promise.all(
    plans.map(async ({ stream, events }) => {
      for (let v = 0; v < appends; v++) {
        await context.append(stream, v, [events[v]]);
        context.progress.step(`writers ${phase}`, ++done, writers * appends);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  for (const { stream } of plans) {
    const back = await context.adapter.readStream(stream);
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
