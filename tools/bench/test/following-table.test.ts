import type { FollowingRow } from '../src/following-table.js';
import { followingTables, latencyRatio, throughputRatio, verdict } from '../src/following-table.js';

const es = {
  inProcess: { p50: 2, p99: 20 },
  polling: { p50: 95, p99: 100 },
  eventsPerSecond: 3000,
};

describe('ratios: how many times faster @es is', () => {
  it("is Emmett's latency over ours, and our throughput over Emmett's", () => {
    expect(latencyRatio(990, 99)).toBe(10);
    expect(throughputRatio(3000, 1500)).toBe(2);
  });

  it('does not divide by a latency that rounds to 0', () => {
    expect(latencyRatio(1, 0)).toBe(20);
  });
});

describe('verdict', () => {
  it('is met only when every ratio reaches the target', () => {
    expect(verdict([1.5, 30], 1.5)).toBe('met');
    expect(verdict([1.4, 30], 1.5)).toBe('missed (lowest 1.4x < 1.5x)');
  });
});

describe('followingTables', () => {
  const rows: FollowingRow[] = [
    {
      backend: 'postgres',
      es,
      emmett: { consumer: { p50: 990, p99: 1000 }, eventsPerSecond: 1000, unthrottledEventsPerSecond: 2500 },
    },
    { backend: 'memory', es, emmett: { missing: 'no consumer' } },
    { backend: 'mysql', es, emmett: { missing: 'no store' } },
    { backend: 'other', es, emmett: { missing: 'no consumer' } },
  ];
  const text = followingTables(rows, 1.5);

  it("puts Emmett's figures and both ratios beside ours, with the verdict", () => {
    expect(text).toContain('| postgres | 2.0 / 20 | 95 / 100 | 990 / 1000 | 495x / 50x | 10x / 10x | met |');
    expect(text).toContain('| postgres | 3,000 | 1,000 | 3.0x | met | 2,500 | 1.2x |');
  });

  it('says where Emmett has no equivalent, numbering each reason once', () => {
    expect(text).toContain('| memory | 2.0 / 20 | 95 / 100 | none (1) | | | |');
    expect(text).toContain('| mysql | 3,000 | none (2) | | | | |');
    expect(text).toContain('| other | 3,000 | none (1) | | | | |');
    expect(text).toMatch(/\(1\) no consumer\n\(2\) no store$/);
  });
});
