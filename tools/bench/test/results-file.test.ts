import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResults, resultsPath, sourceState, writeResults } from '../src/results-file.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'es-bench-results-'));

describe('the results file', () => {
  it('is named after the start of the run, sortable and without colons, -quick for a quick run', () => {
    const started = new Date('2026-12-01T07:56:15.817Z');
    expect(resultsPath('/r', started, false)).toBe('/r/2026-12-01T07-56-15-817Z.json');
    expect(resultsPath('/r', started, true)).toBe('/r/2026-12-01T07-56-15-817Z-quick.json');
  });

  it('names the commit measured and the measured files that differ from it', () => {
    const root = scratch();
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
    git('init', '-q');
    mkdirSync(join(root, 'packages'));
    writeFileSync(join(root, 'packages', 'a.ts'), 'one\n');
    writeFileSync(join(root, 'notes.md'), 'one\n');
    git('add', '.');
    git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-qm', 'first');
    writeFileSync(join(root, 'packages', 'a.ts'), 'two\n');
    writeFileSync(join(root, 'notes.md'), 'two\n');
    expect(sourceState(root)).toEqual({ commit: git('rev-parse', 'HEAD'), modified: [' M packages/a.ts'] });
    // Outside a checkout there is nothing to say.
    expect(sourceState(scratch())).toEqual({});
  });

  it('reads back what it wrote, and refuses a file that is not one', () => {
    const path = join(scratch(), 'deeper', 'run.json');
    const results = {
      started: '2026-12-01T07:56:15.817Z',
      command: ['--quick'],
      source: { commit: 'abc', modified: [] },
      machine: { cores: 2, cpu: 'cpu', memoryGiB: 23, node: 'v20', kernel: '6' },
      rounds: 1,
      reports: [],
    };
    writeResults(path, results);
    expect(readResults(path)).toEqual(results);
    writeFileSync(path, '{"started":"x"}');
    expect(() => readResults(path)).toThrow('is not a results file of pnpm bench');
  });
});
