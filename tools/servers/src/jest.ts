import { BACKENDS, type ServerName, howToStart } from './backends.js';
import type { ProbeResult } from './probe.js';

/**
 * The variable through which one probe of every server (jest-global-setup.mjs, or `pnpm test` for the
 * whole run) reaches every test file.
 */
export const PROBED_VARIABLE = 'ES_SERVERS_PROBED';

function probed(name: ServerName): ProbeResult | undefined {
  const raw = process.env[PROBED_VARIABLE];
  if (!raw) return undefined;
  return (JSON.parse(raw) as ProbeResult[]).find((result) => result.name === name);
}

/**
 * Whether a backend's server is ready, for a test file deciding (synchronously, while jest collects tests)
 * whether to define its tests: under CI=true a missing server fails the file, naming the variable and how
 * to start the server; otherwise a banner says the tests are skipped (see @es/testing's requireServer).
 */
export function requireBackend(name: ServerName): boolean {
  // @es/testing loads @jest/globals, which loads only inside jest: required here, when a test file asks,
  // so that the example CLI and the bench can import this package's table and probe outside jest.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { requireServer } = require('@es/testing') as typeof import('@es/testing');
  const { label, server } = BACKENDS[name];
  const result = probed(name);
  return requireServer(
    `${label} at ${result?.url ?? server!.defaultUrl}`,
    () => {
      if (result === undefined)
        throw new Error(`no probe result: run the tests through jest with the shared preset's globalSetup`);
      if (!result.ok) throw new Error(result.reason);
      return true;
    },
    howToStart(name),
  );
}
