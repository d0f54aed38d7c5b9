import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ResultsFile,
  formatRunHeader,
  loadAverage,
  machine,
  readResults,
  resultsPath,
  sourceState,
  writeResults,
} from '../src/results-file.js';

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

  it('records the load average at the start and the end of a run, and reads it back into the header', () => {
    const start = loadAverage(() => [0.75, 0.5, 0.25]);
    expect(start).toEqual({ oneMinute: 0.75, fiveMinutes: 0.5, fifteenMinutes: 0.25 });
    const end = loadAverage(() => [3.87, 2.1, 1]);
    // The real os.loadavg(): three figures, none negative.
    const now = loadAverage();
    for (const figure of Object.values(now)) expect(figure).toBeGreaterThanOrEqual(0);

    const path = join(scratch(), 'run.json');
    const results: ResultsFile = {
      started: '2026-12-02T08:26:29.267Z',
      command: ['--rounds', '3'],
      source: { commit: 'fbfaee20a6bce0cc19cb5b245ae45545c042125e', modified: [' M packages/a.ts'] },
      machine: machine({ start, end }),
      rounds: 3,
      reports: [],
    };
    expect(results.machine.cores).toBeGreaterThan(0);
    writeResults(path, results);
    const read = readResults(path);
    expect(read.machine.load).toEqual({ start, end });
    const header = formatRunHeader(read).split('\n');
    expect(header[0]).toBe(
      'Run of 2026-12-02T08:26:29.267Z, 3 rounds: `pnpm bench --rounds 3`, commit fbfaee2 (1 measured file modified).',
    );
    expect(header[2]).toBe(
      'Load average (1, 5, 15 min): 0.75, 0.50, 0.25 at the start, 3.87, 2.10, 1.00 at the end.',
    );
  });

  it('still loads a file written before the load average was recorded, and says it has none', () => {
    // The shape of docs/bench/round2g-2026-12-02.json, the last file without it.
    const path = join(scratch(), 'old.json');
    writeFileSync(
      path,
      JSON.stringify({
        started: '2026-12-02T08:26:29.267Z',
        command: ['--rounds', '3', '-o', 'docs/bench/round2g-2026-12-02.json'],
        source: { commit: 'fbfaee20a6bce0cc19cb5b245ae45545c042125e', modified: [] },
        machine: { cores: 2, cpu: 'AMD EPYC', memoryGiB: 24, node: 'v20.20.2', kernel: '6.18.44' },
        rounds: 3,
        reports: [],
      }),
    );
    const read = readResults(path);
    expect(read.machine.load).toBeUndefined();
    const header = formatRunHeader(read).split('\n');
    expect(header[0]).toBe(
      'Run of 2026-12-02T08:26:29.267Z, 3 rounds: `pnpm bench --rounds 3 -o docs/bench/round2g-2026-12-02.json`, commit fbfaee2.',
    );
    expect(header[1]).toBe('Machine: 2 cores (AMD EPYC), 24 GiB, Node v20.20.2, kernel 6.18.44.');
    expect(header[2]).toBe('Load average: not recorded (the file is older than the bench recording it).');
  });
});
