import type { CassandraDatastore } from '@es/cassandra';
import { NotFoundError } from '@es/core';
import { checkSeedScenario, runSeedScenario } from '@es/example';
import { describeIfAvailable } from '@es/testing';
import { CassandraApplication, setupCassandra } from '../src/index.js';
import { cassandraAvailable, settings } from './server.js';

describeIfAvailable(cassandraAvailable, "the seed's CassandraApplication", () => {
  let cassandraDatastore: CassandraDatastore | undefined;
  beforeAll(async () => {
    cassandraDatastore = await setupCassandra(settings);
  }, 120_000);
  afterAll(() => cassandraDatastore?.close());

  it('can be used in exactly the same way as the example application', async () => {
    // The seed's usage block, line by line.
    await using app = new CassandraApplication();

    const entity = app.createExample('bar1');

    expect(await app.exampleRepository.has(entity.id)).toBe(true);

    expect((await app.exampleRepository.get(entity.id)).foo).toBe('bar1');

    entity.foo = 'bar2';

    expect((await app.exampleRepository.get(entity.id)).foo).toBe('bar2');

    // Discard the entity.
    entity.discard();
    expect(await app.exampleRepository.has(entity.id)).toBe(false);

    await expect(app.exampleRepository.get(entity.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("runs the seed's scenario, storing each event at its version", async () => {
    await using app = new CassandraApplication();
    const report = await runSeedScenario(app);
    expect(checkSeedScenario(report)).toEqual([]);
    expect(report.steps.flatMap((s) => s.stored.map((i) => i.position))).toEqual([0, 1, 2]);
    // Cassandra keeps no application-wide notification log.
    expect(report.notifications).toBeUndefined();
  });
});
