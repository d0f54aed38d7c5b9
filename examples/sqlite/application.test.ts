import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSeedScenario, describeStore, runSeedScenario } from '@es/example';
import { createApplication, dataLocation } from './application.js';

// A directory that does not exist yet: the application creates it.
const file = join(mkdtempSync(join(tmpdir(), 'es-example-sqlite-')), 'data', 'example.sqlite');

test("the seed's scenario, on a SQLite file it creates", async () => {
  await using app = await createApplication(file);
  const report = await runSeedScenario(app);
  expect(checkSeedScenario(report)).toEqual([]);
  expect(report.notifications?.map((n) => n.position)).toEqual([0, 1, 2]);
  expect(existsSync(file)).toBe(true);
});

test('the next application on the file finds what the last one stored', async () => {
  await using app = await createApplication(file);
  expect(await describeStore(app)).toEqual({ entities: 1, notificationLogSize: 3 });
});

test('says where the data lives', () => {
  expect(dataLocation(file)).toBe(`SQLite file ${file}, table integer_sequenced_items`);
});
