import { checkSeedScenario, runSeedScenario } from '@es/example';
import { createApplication, dataLocation } from './application.js';

test("the seed's scenario, on the in-memory backend", async () => {
  await using app = await createApplication();
  const report = await runSeedScenario(app);
  expect(checkSeedScenario(report)).toEqual([]);
  expect(report.notifications?.map((n) => n.position)).toEqual([0, 1, 2]);
  expect(dataLocation()).toMatch(/^process memory/);
});
