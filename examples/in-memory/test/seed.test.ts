import { checkSeedScenario, runSeedScenario } from '@es/example';
import { createApplication } from '../src/index.js';

test("the seed's scenario, on the in-memory backend", async () => {
  await using app = await createApplication();
  const report = await runSeedScenario(app);
  expect(checkSeedScenario(report)).toEqual([]);
  expect(report.notifications).toHaveLength(3);
});
