import { spawnSync } from 'node:child_process';
import { describe } from '@jest/globals';

const isCi = (): boolean => ['true', '1'].includes((process.env.CI ?? '').toLowerCase());

/**
 * True when something accepts TCP connections at host:port within `timeoutMs`. Synchronous (it asks a
 * child process), because jest must know while collecting tests whether to define or skip them.
 */
export function canConnect(host: string, port: number, timeoutMs = 2000): boolean {
  const script = `
    const socket = require('node:net').createConnection({ host: process.argv[1], port: Number(process.argv[2]) });
    socket.setTimeout(${Number(timeoutMs)});
    socket.once('connect', () => process.exit(0));
    socket.once('timeout', () => process.exit(1));
    socket.once('error', () => process.exit(1));`;
  const result = spawnSync(process.execPath, ['-e', script, host, String(port)], {
    stdio: 'ignore',
    timeout: timeoutMs + 3000,
  });
  return result.status === 0;
}

/**
 * Whether the server a backend's tests need is available. When `probe()` says no: under CI=true this
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
