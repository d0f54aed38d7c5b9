import { requireServer } from '@es/testing/conformance';

export { describeIfAvailable } from '@es/testing/conformance';
import { BACKENDS, type ServerName, howToStart } from './backends.js';
import { PROBED_VARIABLE, type ProbeResult } from './probe.js';

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
