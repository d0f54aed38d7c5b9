import { figureOf, median, mergeRuns, speedRatio, turnOrder } from '../src/medians.js';
import { METRICS, type MetricKey } from '../src/scenarios/metrics.js';
import { ran } from './fixtures.js';

const metric = (key: MetricKey) => METRICS.find((m) => m.key === key)!;

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([10, 30, 20, 50, 40])).toBe(30);
  });

  it('is the upper middle value of an even count: a figure that was measured, not an average', () => {
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('mergeRuns: several rounds of one implementation', () => {
  it("keeps, per scenario, the median round by the scenario's main figure, with every round's figure", () => {
    const merged = mergeRuns('library', [
      ran('library', { single: { singleEventsPerSecond: 300, singleP50Ms: 3 } }),
      ran('library', { single: { singleEventsPerSecond: 100, singleP50Ms: 9 } }),
      ran('library', { single: { singleEventsPerSecond: 200, singleP50Ms: 5 } }),
    ]);
    const outcome = merged.scenarios.single;
    expect(outcome?.status).toBe('ok');
    if (outcome?.status !== 'ok') return;
    // The whole median run, so that its latency belongs with its throughput.
    expect(outcome.result.metrics).toEqual({ singleEventsPerSecond: 200, singleP50Ms: 5 });
    expect(outcome.result.runs).toEqual([300, 100, 200]);
    expect(merged.description).toBe('library as measured');
  });

  it('merges scenarios that ran in separate workers', () => {
    const merged = mergeRuns('raw', [
      ran('raw', { batch: { batchEventsPerSecond: 5 } }),
      ran('raw', { load: { loadsPerSecond: 7, snapshotLoadsPerSecond: 70 } }),
    ]);
    expect(Object.keys(merged.scenarios).sort()).toEqual(['batch', 'load']);
  });

  it('reports a failure when any round of a scenario failed', () => {
    const failed = {
      implementation: 'library' as const,
      scenarios: { batch: { status: 'failed' as const, error: 'Error: lost connection' } },
    };
    const merged = mergeRuns('library', [ran('library', { batch: { batchEventsPerSecond: 5 } }), failed]);
    expect(merged.scenarios.batch).toEqual({ status: 'failed', error: 'Error: lost connection' });
  });
});

describe('speedRatio: the library against a baseline', () => {
  it('is library / baseline for a throughput and baseline / library for a latency: above 1, the library is faster', () => {
    const lib = ran('library', { single: { singleEventsPerSecond: 150, singleP50Ms: 2 } });
    const raw = ran('raw', { single: { singleEventsPerSecond: 100, singleP50Ms: 4 } });
    expect(speedRatio(lib, raw, metric('singleEventsPerSecond'))).toBe(1.5);
    expect(speedRatio(lib, raw, metric('singleP50Ms'))).toBe(2);
  });

  it('with several rounds, is the median of the per-round ratios, not the ratio of the medians', () => {
    // Round by round the library is 0.5x, 1.5x and 0.9x; the ratio of the medians (100 / 100) would say 1x.
    const lib = ran('library', { batch: { batchEventsPerSecond: 100, runs: [50, 150, 100] } });
    const raw = ran('raw', { batch: { batchEventsPerSecond: 100, runs: [100, 100, 111.11111111111111] } });
    expect(speedRatio(lib, raw, metric('batchEventsPerSecond'))).toBeCloseTo(0.9, 10);
  });

  it('is undefined for a missing side, a zero, or a figure that is not a speed', () => {
    const lib = ran('library', { contention: { contentionEventsPerSecond: 10, contentionConflicts: 3 } });
    const raw = ran('raw', { contention: { contentionEventsPerSecond: 0, contentionConflicts: 4 } });
    expect(speedRatio(lib, undefined, metric('contentionEventsPerSecond'))).toBeUndefined();
    expect(speedRatio(lib, raw, metric('contentionEventsPerSecond'))).toBeUndefined();
    expect(speedRatio(lib, raw, metric('contentionConflicts'))).toBeUndefined();
    expect(figureOf(lib, metric('logEventsPerSecond'))).toBeUndefined();
  });
});

describe('turnOrder', () => {
  it('rotates the implementations each round, so each runs once in every position over as many rounds', () => {
    const impls = ['library', 'raw', 'emmett'];
    const rounds = [0, 1, 2].map((r) => turnOrder(impls, r));
    expect(rounds).toEqual([
      ['library', 'raw', 'emmett'],
      ['raw', 'emmett', 'library'],
      ['emmett', 'library', 'raw'],
    ]);
    for (let position = 0; position < 3; position++)
      expect(new Set(rounds.map((order) => order[position]))).toEqual(new Set(impls));
    expect(turnOrder(impls, 3)).toEqual(impls);
    expect(turnOrder([], 5)).toEqual([]);
  });
});
