import type { BackendReport } from '../src/report.js';
import { barChart, ratioBars } from '../src/chart.js';
import { FULL_SIZES } from '../src/scenarios/sizes.js';
import { ran } from './fixtures.js';

const report: BackendReport = {
  backend: 'postgres',
  title: 'PostgreSQL',
  sizes: FULL_SIZES,
  implementations: [
    ran('library', {
      single: { singleEventsPerSecond: 900, singleP50Ms: 1 },
      batch: { batchEventsPerSecond: 50_000 },
    }),
    ran('raw', {
      single: { singleEventsPerSecond: 1000, singleP50Ms: 2 },
      batch: { batchEventsPerSecond: 100_000 },
    }),
  ],
};

describe('the ratio charts', () => {
  it('take the throughput ratios against one baseline, not latencies, nor a baseline that did not run', () => {
    expect(ratioBars([report], 'raw')).toEqual([
      { backend: 'postgres', scenario: '1. single-event appends, new streams, 1 writer', ratio: 0.9 },
      { backend: 'postgres', scenario: '2. 100-event batch appends, new streams', ratio: 0.5 },
    ]);
    expect(ratioBars([report], 'emmett')).toEqual([]);
    expect(ratioBars([{ ...report, skipped: 'no server' }], 'raw')).toEqual([]);
  });

  it('draw a bar per ratio, red below the target, and the target as a line', () => {
    const svg = barChart('@es / raw <test>', ratioBars([report], 'raw'), 0.8);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('@es / raw &lt;test&gt;');
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain('0.90x');
    expect(svg).toContain('0.50x');
    // 0.9 meets 0.8 (blue), 0.5 does not (red)
    expect(svg.match(/fill="#4a90d9"/g)).toHaveLength(1);
    expect(svg.match(/fill="#d9534f"/g)).toHaveLength(1);
    expect(svg).toContain('target 0.8x');
  });
});
