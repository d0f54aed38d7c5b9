// Jest's globalSetup (in the shared preset): probes every server once per run, before any test file is
// collected, unless the caller (`pnpm test`) already did and passed the results down. Test files read
// the result through requireBackend (src/jest.ts). Plain ESM that loads the TypeScript probe through tsx,
// because jest applies no module mapping to a global setup file.
import { tsImport } from 'tsx/esm/api';

export default async function probeServersOnce() {
  if (process.env.ES_SERVERS_PROBED) return;
  const { probeAll } = await tsImport('./src/probe.ts', import.meta.url);
  const results = await probeAll(['postgres', 'mysql', 'cassandra']);
  process.env.ES_SERVERS_PROBED = JSON.stringify(results);
}
