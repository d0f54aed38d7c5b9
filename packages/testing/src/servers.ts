import { describe } from '@jest/globals';

const isCi = (): boolean => ['true', '1'].includes((process.env.CI ?? '').toLowerCase());

/**
 * Whether the server a backend's tests need is available. `probe` runs while jest collects tests, so it is
 * synchronous: read the answer of an asynchronous probe made once before (a jest globalSetup that sets an
 * environment variable, as @es's own tools/servers does), rather than testing a port: a port that accepts
 * connections is not a server that answers queries. When `probe()` says no: under CI=true this
 * throws (the test file fails, naming the server and how to start it); locally it prints a loud
 * banner and returns false, and `describeIfAvailable(false, ...)` reports the tests as skipped.
 */
export function requireServer(name: string, probe: () => boolean, howToStart: string): boolean {
  let available: boolean;
  let reason = '';
  try {
    available = probe();
  } catch (error) {
    available = false;
    reason = ` (${error instanceof Error ? error.message : String(error)})`;
  }
  if (available) return true;
  const message = `${name} is not reachable${reason}. Start it with: ${howToStart}`;
  if (isCi()) throw new Error(`CI=true: ${message}`);
  const lines = [`${message}`, `The ${name} tests are SKIPPED.`];
  const width = Math.max(...lines.map((l) => l.length)) + 4;
  console.warn(['!'.repeat(width), ...lines.map((l) => `! ${l}`), '!'.repeat(width)].join('\n'));
  return false;
}

/** `describe` when available, otherwise `describe.skip`: jest reports every test inside as skipped. */
export function describeIfAvailable(available: boolean, title: string, define: () => void): void {
  if (available) describe(title, define);
  else describe.skip(title, define);
}
