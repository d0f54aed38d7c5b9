/**
 * `pnpm soak [--seconds 36] [--backends memory,sqlite,postgres,mysql,cassandra] [--json]`: a bounded
 * soak of each backend (loopback servers only; Cassandra on the shared node `main`, in keyspace
 * es_soak): mixed appends, reads and log followers with faults injected, then a check that every
 * acknowledged item is stored and in the log exactly once. Exits 1 when anything was lost.
 */
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, type BackendName, openBackend } from './backends.js';
import { formatReport } from './report.js';
import { type SoakReport, isClean, runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '36' },
    backends: { type: 'string', default: BACKEND_NAMES.join(',') },
    'fault-every-ms': { type: 'string', default: '1500' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
if (!(seconds > 0 && seconds <= 3600))
  throw new Error('--seconds must be a number of seconds from 1 to 3600');
const backends = values.backends.split(',').map((b) => b.trim()) as BackendName[];
for (const b of backends)
  if (!BACKEND_NAMES.includes(b))
    throw new Error(`--backends: unknown ${b}; known: ${BACKEND_NAMES.join(', ')}`);

const reports: SoakReport[] = [];
for (const name of backends) {
  process.stderr.write(`soak: ${name} for ${seconds} s...\n`);
  const backend = await openBackend(name);
  try {
    reports.push(await runSoak(backend, { seconds, faultEveryMs: Number(values['fault-every-ms']) }));
  } finally {
    await backend.close();
  }
  if (!values.json) process.stdout.write(`${formatReport(reports[reports.length - 1]!)}\n`);
}
if (values.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
const clean = reports.every(isClean);
process.stdout.write(clean ? 'soak: nothing lost\n' : 'soak: LOSS OR UNTYPED ERRORS, see above\n');
process.exit(clean ? 0 : 1);
