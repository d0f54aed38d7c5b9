/**
 * The results file: every figure of a run as JSON (each round's, not only the medians), with the commit
 * measured and the source files that differed from it, since figures belong to a version of the code,
 * and the machine's load average at the start and the end, since they belong to a machine's state too.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import type { BackendReport } from './report.js';

export interface ResultsFile {
  readonly started: string;
  /** The command line's arguments. */
  readonly command: readonly string[];
  readonly source: SourceState;
  readonly machine: Machine;
  readonly rounds: number;
  readonly reports: readonly BackendReport[];
}

export interface SourceState {
  readonly commit?: string;
  /** `git status --porcelain` lines of the measured code (the packages and the bench). */
  readonly modified?: string[];
}

export interface Machine {
  readonly cores: number;
  readonly cpu: string | undefined;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
  /**
   * The load average when the run started and when it ended. On a shared machine a figure means little
   * without it. Absent in files written before the bench recorded it (up to round2g-2026-12-02.json).
   */
  readonly load?: RunLoad;
}

export interface RunLoad {
  readonly start: LoadAverage;
  readonly end: LoadAverage;
}

/** `os.loadavg()`: runnable (and, on Linux, uninterruptible) processes averaged over 1, 5 and 15 minutes. */
export interface LoadAverage {
  readonly oneMinute: number;
  readonly fiveMinutes: number;
  readonly fifteenMinutes: number;
}

export function loadAverage(read: () => number[] = loadavg): LoadAverage {
  const [oneMinute = 0, fiveMinutes = 0, fifteenMinutes = 0] = read();
  return { oneMinute, fiveMinutes, fifteenMinutes };
}

/** The commit checked out in `root` and the measured files that differ from it; empty outside git. */
export function sourceState(
  root: string,
  paths: readonly string[] = ['packages', 'tools/bench'],
): SourceState {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', root, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trimEnd();
    const modified = git('status', '--porcelain', '--', ...paths)
      .split('\n')
      .filter(Boolean);
    return { commit: git('rev-parse', 'HEAD'), modified };
  } catch {
    return {};
  }
}

export function machine(load?: RunLoad): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    ...(load ? { load } : {}),
  };
}

/** `<dir>/2026-12-01T07-56-15-817Z-quick.json`: named after the start, sortable, safe on every file system. */
export function resultsPath(dir: string, started: Date, quick: boolean): string {
  return join(dir, `${started.toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
}

export function writeResults(path: string, results: ResultsFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}

export function readResults(path: string): ResultsFile {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ResultsFile>;
  if (!Array.isArray(parsed.reports))
    throw new Error(`${path} is not a results file of pnpm bench (no reports)`);
  return parsed as ResultsFile;
}

/**
 * What `--report` prints before the tables: when the run started, its rounds and command, the commit
 * measured, the machine, and its load average at the start and the end (or that the file has none).
 */
export function formatRunHeader(results: ResultsFile): string {
  const { source, machine: box } = results;
  const modified = source.modified?.length ?? 0;
  const commit =
    source.commit === undefined
      ? 'no commit recorded'
      : `commit ${source.commit.slice(0, 7)}${modified > 0 ? ` (${modified} measured file${modified > 1 ? 's' : ''} modified)` : ''}`;
  const lines = [
    `Run of ${results.started}, ${results.rounds} round${results.rounds === 1 ? '' : 's'}: \`pnpm bench ${results.command.join(' ')}\`, ${commit}.`,
    `Machine: ${box.cores} cores (${box.cpu ?? 'unknown CPU'}), ${box.memoryGiB} GiB, Node ${box.node}, kernel ${box.kernel}.`,
    box.load === undefined
      ? 'Load average: not recorded (the file is older than the bench recording it).'
      : `Load average (1, 5, 15 min): ${formatLoad(box.load.start)} at the start, ${formatLoad(box.load.end)} at the end.`,
  ];
  return `${lines.join('\n')}\n`;
}

export function formatLoad(load: LoadAverage): string {
  return [load.oneMinute, load.fiveMinutes, load.fifteenMinutes].map((n) => n.toFixed(2)).join(', ');
}
