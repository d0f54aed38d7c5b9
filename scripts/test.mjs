#!/usr/bin/env node
// `pnpm test`: every package's tests against real servers. Starts the Cassandra node when Java 17 and
// Maven are here and nothing answers on its port (and stops only what it started); PostgreSQL and
// MariaDB are expected to be running (.ci/run starts them). Closes with one line of totals.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ci = process.env.CI === 'true' || process.env.CI === '1';
const root = fileURLToPath(new URL('..', import.meta.url));
const cassandraScript = join(root, 'scripts/cassandra/cassandra.sh');
const cassandraPort = Number(process.env.CASSANDRA_PORT ?? 9042);

function portOpen(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host, timeout: 1000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const has = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

function banner(lines) {
  const width = Math.max(...lines.map((l) => l.length)) + 4;
  console.warn(['!'.repeat(width), ...lines.map((l) => `! ${l}`), '!'.repeat(width)].join('\n'));
}

let startedCassandra = false;
if (!(await portOpen(cassandraPort))) {
  const javaOk = existsSync('/usr/lib/jvm/java-17-openjdk-amd64/bin/java') || has('java', ['-version']);
  if (javaOk && has('mvn', ['--version']) && !process.env.ES_SKIP_CASSANDRA_START) {
    console.log('test: starting Cassandra (first time: fetches cassandra-all from Maven Central)...');
    const r = spawnSync('bash', [cassandraScript, 'start'], { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error('test: Cassandra failed to start (see above).');
      if (ci) process.exit(1);
    } else startedCassandra = true;
  } else if (ci) {
    console.error(
      'test: CI=true but Cassandra is not running and Java 17 + Maven are missing: cannot run the Cassandra suites.',
    );
    process.exit(1);
  } else {
    banner([
      'Cassandra is not running and Java 17 + Maven are not both present:',
      'the Cassandra suites will be SKIPPED. Start one with: pnpm cassandra start',
    ]);
  }
}

const summary = join(mkdtempSync(join(tmpdir(), 'es-test-')), 'summary.jsonl');
// turbo from the workspace itself: pnpm need not be on PATH (the README runs us through npx).
const turbo = join(root, 'node_modules/.bin/turbo');
const turboArgs = ['run', 'test', '--concurrency=1', '--continue', ...process.argv.slice(2)];
const result = spawnSync(turbo, turboArgs, {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, ES_TEST_SUMMARY: summary },
});

if (startedCassandra) spawnSync('bash', [cassandraScript, 'stop'], { stdio: 'inherit' });

const totals = { passed: 0, failed: 0, skipped: 0 };
const rows = existsSync(summary) ? readFileSync(summary, 'utf8').trim().split('\n').filter(Boolean) : [];
for (const row of rows.map((r) => JSON.parse(r))) {
  for (const k of Object.keys(totals)) totals[k] += row[k];
  console.log(
    `  ${row.package.padEnd(28)} ${row.passed} passed, ${row.failed} failed, ${row.skipped} skipped`,
  );
}
// A package whose jest could not even start reports no counts: still count the run as failed.
const failed = totals.failed || (result.status === 0 ? 0 : 1);
console.log(`${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped`);
process.exit(result.status === 0 && totals.failed === 0 ? 0 : 1);
