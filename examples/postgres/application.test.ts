import { checkSeedScenario, runSeedScenario } from '@es/example';
import { serverUrl } from '@es/servers';
import { requireBackend } from '@es/servers/jest';
import { describeIfAvailable } from '@es/testing/conformance';
import { createApplication, dataLocation } from './application.js';

describeIfAvailable(requireBackend('postgres'), "the seed's scenario on PostgreSQL", () => {
  it('runs as the seed says, each event in the notification log', async () => {
    await using app = await createApplication(serverUrl('postgres'));
    const report = await runSeedScenario(app);
    expect(checkSeedScenario(report)).toEqual([]);
    expect(report.notifications?.map((n) => n.position)).toEqual([0, 1, 2]);
  });
});

test('says where the data lives, without the password', () => {
  expect(dataLocation('postgres://shop:secret@db.example:5433/orders')).toBe(
    'PostgreSQL at postgres://shop@db.example:5433/orders, table integer_sequenced_items',
  );
});
