import { checkSeedScenario, describeStore, runSeedScenario } from '@es/example';
import { describeIfAvailable } from '@es/testing';
import { createApplication, dataLocation } from '../src/index.js';
import { cassandraAvailable, settings } from './server.js';

describeIfAvailable(cassandraAvailable, 'createApplication (Cassandra)', () => {
  it("runs the seed's scenario on the ExampleApplication, and the data stays", async () => {
    let entityId: string;
    {
      await using app = await createApplication(settings);
      const report = await runSeedScenario(app);
      expect(checkSeedScenario(report)).toEqual([]);
      entityId = report.entityId;
    }
    await using again = await createApplication(settings);
    expect(await again.eventStore.listSequenceIds()).toContain(entityId);
    expect((await describeStore(again)).entities).toBeGreaterThanOrEqual(1);
    expect(await again.exampleRepository.has(entityId)).toBe(false);
    expect((await again.eventStore.getDomainEvents(entityId)).map((e) => e.constructor.name)).toEqual([
      'Created',
      'AttributeChanged',
      'Discarded',
    ]);
  }, 60_000);

  it('says where the data lives', () => {
    expect(dataLocation(settings)).toBe(
      `Cassandra at ${settings.address}, table ${settings.keyspace}.integer_sequenced_items`,
    );
  });
});
