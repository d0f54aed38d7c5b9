import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstApp as emmett } from './emmett.js';
import { firstApp as es } from './es.js';

/** The two versions of docs/first-app.md: both run, both give the same answer, and the doc counts true. */
const directory = mkdtempSync(join(tmpdir(), 'es-first-app-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

test('@es: create, change, read back on a SQLite file', async () => {
  expect(await es(`sqlite:${join(directory, 'es.sqlite')}`)).toEqual({ owner: 'Ada', total: 12 });
});

test('Emmett: the same app on its SQLite event store', async () => {
  expect(await emmett(join(directory, 'emmett.sqlite'))).toEqual({ owner: 'Ada', total: 12 });
});

/** Lines of code: neither blank nor only a closing bracket, as the doc counts them. */
function linesOf(file: string): number {
  return readFileSync(join(__dirname, file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^[\s})\];,]*$/.test(line)).length;
}

test('docs/first-app.md states the line counts of both files', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'first-app.md'), 'utf8');
  const counts = /\| lines of code \| (\d+) \| (\d+) \|/.exec(doc);
  expect(counts && [Number(counts[1]), Number(counts[2])]).toEqual([linesOf('es.ts'), linesOf('emmett.ts')]);
});
