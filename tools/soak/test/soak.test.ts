/**
 * The soak's short variant, run in CI: a few seconds per backend of mixed appends, reads and followers
 * with faults injected; nothing acknowledged may be lost, every error must be typed, and the log must
 * hold each acknowledged item once. And the check itself can fail: a store that drops acknowledged
 * items is caught.
 */
import { InMemoryActiveRecordStrategy, type SequencedItem } from '@es/core';
import { describeIfAvailable, requireBackend } from '@es/servers/jest';
import { BACKEND_NAMES, type SoakBackend, openBackend } from '../src/backends.js';
import { formatReport } from '../src/report.js';
import { isClean, runSoak } from '../src/soak.js';

const SECONDS = 4;

for (const name of BACKEND_NAMES) {
  const available = name === 'memory' || name === 'sqlite' ? true : requireBackend(name);
  describeIfAvailable(available, `soak of ${name}`, () => {
    it(`${SECONDS} s with faults: nothing lost, every error typed, the log exact`, async () => {
      const backend = await openBackend(name);
      try {
        const report = await runSoak(backend, { seconds: SECONDS, faultEveryMs: 700 });
        const text = formatReport(report);
        expect({ clean: isClean(report), text }).toEqual({ clean: true, text });
        expect(report.itemsAcknowledged).toBeGreaterThan(0);
        expect(report.reads).toBeGreaterThan(0);
        if (Object.keys(backend.faults).length > 0)
          expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
        if (report.log) expect(report.notificationsFollowed).toBeGreaterThan(0);
      } finally {
        await backend.close();
      }
    }, 60_000);
  });
}

describe('the soak catches a store that loses what it acknowledged', () => {
  /** Acknowledges every append, but forgets one item in fifty. */
  class Forgetful extends InMemoryActiveRecordStrategy {
    private inserts = 0;
    protected override async insert(items: readonly SequencedItem[]): Promise<void> {
      this.inserts += 1;
      if (this.inserts % 50 === 0) return;
      return super.insert(items);
    }
  }

  it('reports the loss, and the report is not clean', async () => {
    const store = new Forgetful();
    const backend: SoakBackend = {
      name: 'memory',
      store: () => store,
      log: () => store,
      faults: {},
      close: async () => {},
    };
    const report = await runSoak(backend, { seconds: 1 });
    expect(report.lost + report.readMisses).toBeGreaterThan(0);
    expect(isClean(report)).toBe(false);
  });
});
