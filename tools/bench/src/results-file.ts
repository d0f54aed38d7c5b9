/**
 * The results file: every figure of a run as JSON (each round's, not only the medians), with the commit
 * measured and the source files that differed from it, since figures belong to a version of the code.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
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

export function machine(): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
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
