import { checkSeedScenario, runSeedScenario } from '@es/example';
import { serverUrl } from '@es/servers';
import { requireBackend } from '@es/servers/jest';
import { describeIfAvailable } from '@es/testing/conformance';
import { createApplication, dataLocation } from './application.js';

describeIfAvailable(requireBackend('cassandra'), "the seed's scenario on Cassandra", () => {
  it('runs as the seed says, each event at its version, with no notification log', async () => {
    await using app = await createApplication(serverUrl('cassandra'));
    const report = await runSeedScenario(app);
    expect(checkSeedScenario(report)).toEqual([]);
    expect(report.steps.flatMap((step) => step.stored.map((item) => item.position))).toEqual([0, 1, 2]);
    // Cassandra keeps no application-wide notification log (docs/cassandra.md).
    expect(report.notifications).toBeUndefined();
  }, 60_000);
});

test('says where the data lives, without the password', () => {
  expect(dataLocation('cassandra://shop:secret@db1,db2:9043/orders?localDataCenter=dc2')).toBe(
    'Cassandra at db1,db2:9043, table orders.integer_sequenced_items',
  );
});
