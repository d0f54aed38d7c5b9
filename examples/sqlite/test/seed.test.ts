import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSeedScenario, describeStore, runSeedScenario } from '@es/example';
import { createApplication, dataLocation, defaultSettings } from '../src/index.js';

const file = join(mkdtempSync(join(tmpdir(), 'es-example-sqlite-')), 'data', 'example.sqlite');
const settings = defaultSettings({ ES_SQLITE_FILE: file });

test("the seed's scenario, on a SQLite file", async () => {
  await using app = await createApplication(settings);
  const report = await runSeedScenario(app);
  expect(checkSeedScenario(report)).toEqual([]);
  expect(report.notifications?.map((n) => n.position)).toEqual([0, 1, 2]);
  expect(existsSync(file)).toBe(true);
});

test('the next run finds what the last one stored', async () => {
  let first: string;
  let before: number;
  {
    await using app = await createApplication(settings);
    before = (await describeStore(app)).entities;
    first = (await runSeedScenario(app)).entityId;
  }
  await using again = await createApplication(settings);
  expect(await describeStore(again)).toEqual({ entities: before + 1, notificationLogSize: 3 * (before + 1) });
  expect((await again.eventStore.getDomainEvents(first)).map((e) => e.constructor.name)).toEqual([
    'Created',
    'AttributeChanged',
    'Discarded',
  ]);
});

test('defaults to .es-data/example.sqlite under the working directory', () => {
  expect(defaultSettings({}).filename).toBe(join(process.cwd(), '.es-data', 'example.sqlite'));
  expect(dataLocation(settings)).toBe(`SQLite file ${file}, table integer_sequenced_items`);
});
