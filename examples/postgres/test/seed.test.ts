import { checkSeedScenario, describeStore, runSeedScenario } from '@es/example';
import { requireBackend } from '@es/servers/jest';
import { describeIfAvailable } from '@es/testing';
import { createApplication, dataLocation, defaultSettings } from '../src/index.js';

const settings = defaultSettings();
const available = requireBackend('postgres');

describeIfAvailable(available, "the seed's scenario on PostgreSQL", () => {
  it('runs as the seed says, and the next run finds what it stored', async () => {
    let entityId: string;
    let before: number;
    {
      await using app = await createApplication(settings);
      before = (await describeStore(app)).entities;
      const report = await runSeedScenario(app);
      expect(checkSeedScenario(report)).toEqual([]);
      expect(report.notifications?.map((n) => n.position)).toEqual([0, 1, 2]);
      entityId = report.entityId;
    }
    await using again = await createApplication(settings);
    expect((await describeStore(again)).entities).toBeGreaterThanOrEqual(before + 1);
    expect(await again.eventStore.listSequenceIds()).toContain(entityId);
    expect(await again.exampleRepository.has(entityId)).toBe(false);
  });

  it('says where the data lives, without the password', () => {
    const withPassword = defaultSettings({ ES_POSTGRES_URL: 'postgres://u:secret@127.0.0.1:5432/test' });
    expect(dataLocation(settings)).toBe(
      `PostgreSQL at ${settings.toString()}, table integer_sequenced_items`,
    );
    expect(dataLocation(withPassword)).not.toContain('secret');
  });
});
