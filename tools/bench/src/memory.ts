/**
 * `pnpm bench:memory [--quick] [-b backends] [-r reads] [--sizes 250000,1000000]`: is the peak memory of
 * reading a long stream and of catching up a long log bounded? Per backend (tools/servers' table; a server
 * that does not answer is skipped, or fails the run when named) and size: a process fills a store with
 * one stream (its events are the log's too); then each read runs in a fresh process that opens the store,
 * notes its memory after a full GC (the baseline), reads while sampling, and reports the peak and what it
 * kept (options.ts lists the reads). A read runs under a small heap (--heap-mb, plus in memory what the
 * store itself takes: it is filled in the read's process), so one that held every event would fail. Growth that follows the size is not
 * bounded (figures.ts). Prints a Markdown table and the load average; docs/benchmarks.md records them.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NAMES, describeProbe, howToStart, probe, serverUrl } from '@es/servers';
import type { Connections } from './backends.js';
import { type ChoreReport, MEMORY_JOB_VARIABLE, type MemoryJob } from './memory/case.js';
import { type CaseOutcome, type CaseResult, isFailure, memoryMarkdown } from './memory/figures.js';
import {
  MEMORY_STORE_BYTES_PER_EVENT,
  heapLimitOf,
  parseMemoryCommandLine,
  sizesOf,
} from './memory/options.js';
import { noLogOn } from './memory/stores.js';

/** Runs one job in a fresh process; resolves its report, or the end of its stderr when it sent none. */
function runCase(job: MemoryJob): Promise<CaseResult | ChoreReport | { error: string }> {
  return new Promise((resolve) => {
    let report: CaseResult | ChoreReport | undefined;
    let stderr = '';
    let outOfMemory: string | undefined;
    const limit =
      job.kind === 'read' && job.heapLimitMb !== undefined ? [`--max-old-space-size=${job.heapLimitMb}`] : [];
    const child = fork(fileURLToPath(new URL('./memory/case.ts', import.meta.url)), [], {
      execArgv: [...process.execArgv, '--expose-gc', ...limit],
      env: { ...process.env, [MEMORY_JOB_VARIABLE]: JSON.stringify(job) },
      stdio: ['ignore', 2, 'pipe', 'ipc'],
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderr = (stderr + chunk.toString()).slice(-2000);
      // V8's report of a full heap comes first, before a stack trace longer than the tail kept.
      outOfMemory ??= /FATAL ERROR: [^\n]*/.exec(chunk.toString())?.[0];
    });
    child.on('message', (message) => (report = message as CaseResult | ChoreReport));
    child.on('exit', (code, signal) => {
      if (report !== undefined) return resolve(report);
      const last = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length > 0 && !l.startsWith('['));
      resolve({ error: outOfMemory ?? last.at(-1) ?? `exited with ${signal ?? `code ${code}`}` });
    });
  });
}

async function main(): Promise<void> {
  const options = parseMemoryCommandLine(process.argv.slice(2));
  const sqliteDir = mkdtempSync(join(tmpdir(), 'es-bench-memory-'));
  const connections: Connections = {
    urls: Object.fromEntries(SERVER_NAMES.map((s) => [s, serverUrl(s)])) as Connections['urls'],
    sqliteDir,
  };
  const loadBefore = loadavg();
  const outcomes: CaseOutcome[] = [];
  const notes: string[] = [];
  let failed = false;
  try {
    for (const backend of options.backends) {
      if (backend !== 'memory' && backend !== 'sqlite') {
        const answer = await probe(backend, { url: connections.urls[backend] });
        if (!answer.ok) {
          const why = `${describeProbe(answer)}; to start one: ${howToStart(backend)}`;
          notes.push(`${backend}: SKIPPED (${describeProbe(answer)})`);
          process.stderr.write(`bench:memory: ${options.required ? '' : 'SKIPPED '}${why}\n`);
          if (options.required) failed = true;
          continue;
        }
      }
      const noLog = noLogOn(backend);
      const reads = options.reads.filter((r) => noLog === undefined || (r !== 'log' && r !== 'subscription'));
      if (reads.length < options.reads.length) notes.push(`${backend}: the log is not read: ${noLog}`);
      const sizes = sizesOf(backend, options);
      if (backend === 'cassandra' && sizes.at(-1) !== options.sizes.at(-1))
        notes.push(`cassandra: sizes ${sizes.join(', ')} (its fill is slow; capped by --cassandra-max)`);
      for (const size of sizes) {
        const base = { backend, size, connections };
        try {
          if (backend !== 'memory') {
            const filled = await runCase({ ...base, kind: 'fill' });
            if ('error' in filled) throw new Error(`filling ${size} events: ${filled.error}`);
            notes.push(
              `${backend}: ${size.toLocaleString('en-US')} events filled in ${filled.seconds.toFixed(0)} s (${Math.round(size / filled.seconds).toLocaleString('en-US')} events/s)`,
            );
          }
          for (const read of reads) {
            const heapLimitMb = heapLimitOf(backend, size, options);
            const job = { ...base, kind: 'read' as const, read, pageSize: options.pageSize, heapLimitMb };
            const outcome = await runCase(job);
            const result: CaseOutcome =
              'error' in outcome
                ? { backend, read, size, heapLimitMb, error: outcome.error }
                : (outcome as CaseResult);
            if (isFailure(result)) failed = true;
            outcomes.push(result);
          }
        } catch (error) {
          failed = true;
          notes.push(`${backend}: FAILED at ${size} events: ${(error as Error).message}`);
        } finally {
          if (backend !== 'memory') await runCase({ ...base, kind: 'drop' });
        }
      }
    }
  } finally {
    rmSync(sqliteDir, { recursive: true, force: true });
  }
  const loadAfter = loadavg();
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
  process.stdout.write(
    [
      `Memory of long reads (${options.quick ? 'QUICK' : 'full'} run; sizes ${options.sizes.join(', ')}; pages of ${options.pageSize}; reads under --max-old-space-size=${options.heapMb} MB, plus ${MEMORY_STORE_BYTES_PER_EVENT} B per event in memory)`,
      '',
      memoryMarkdown(outcomes),
      '',
      ...notes.map((n) => `- ${n}`),
      '',
      `load average (1, 5, 15 min): before ${load(loadBefore)}; after ${load(loadAfter)}`,
      '',
    ].join('\n'),
  );
  process.exitCode = failed ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:memory: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
