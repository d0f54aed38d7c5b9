import { type BenchAdapter, SCENARIOS } from '../src/adapter.js';
import { libraryInMemory } from '../src/adapters/library-in-memory.js';
import { MAIN_METRIC } from '../src/scenarios/metrics.js';
import { ScenarioRunner } from '../src/scenarios/runner.js';
import { QUICK_SIZES, type Sizes } from '../src/scenarios/sizes.js';

const quiet = { step() {} };
const tiny: Sizes = {
  ...QUICK_SIZES,
  single: 3,
  batches: 2,
  batchSize: 5,
  writers: 3,
  writerAppends: 4,
  contendedStreams: 2,
  streamLength: 20,
  loads: 1,
  snapshotLoads: 2,
  snapshotWarmup: 1,
  logEvents: 50,
  pageSize: 10,
};

async function inMemory(): Promise<BenchAdapter> {
  const adapter = libraryInMemory();
  await adapter.open();
  return adapter;
}

describe('the scenarios, on the in-memory library (no server)', () => {
  it('each runs, gives its main figure and says what it checked', async () => {
    const runner = new ScenarioRunner(await inMemory(), tiny, quiet);
    for (const scenario of SCENARIOS) {
      const result = await runner.run(scenario);
      expect(result.scenario).toBe(scenario);
      expect(result.metrics[MAIN_METRIC[scenario]]).toBeGreaterThan(0);
    }
    // The log scenario read what the others appended, topped up to its size.
    expect(runner.written).toBeGreaterThanOrEqual(tiny.logEvents);
  });

  it('time only the measured pass: the profiling hook sees it, not the warm-up', async () => {
    const measured: string[] = [];
    const runner = new ScenarioRunner(await inMemory(), tiny, quiet, (label, pass) => {
      measured.push(label);
      return pass();
    });
    await runner.run('batch');
    await runner.run('load');
    expect(measured).toEqual(['batch', 'load', 'load-snapshot']);
  });

  it('fail when a store loses appends it acknowledged', async () => {
    /** Acknowledges every append, but drops every third one after the first `keep`. */
    const lossy = (store: BenchAdapter, keep: number): BenchAdapter => {
      let appends = 0;
      return Object.assign(Object.create(store) as BenchAdapter, {
        append: (stream: string, version: number, events: readonly unknown[]) =>
          ++appends > keep && appends % 3 === 0
            ? Promise.resolve(true)
            : store.append(stream, version, events),
      });
    };
    await expect(
      new ScenarioRunner(lossy(await inMemory(), tiny.contendedStreams), tiny, quiet).run('contention'),
    ).rejects.toThrow(/contention: stream .* events were lost or duplicated/);
    // The third writer's one warm-up append is dropped: its stream is found short.
    await expect(new ScenarioRunner(lossy(await inMemory(), 0), tiny, quiet).run('writers')).rejects.toThrow(
      /writers: stream .* holds 0 events, expected 1 at positions 0..0/,
    );
  });
});
