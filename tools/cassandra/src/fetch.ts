/**
 * `pnpm cassandra fetch`: the server is `org.apache.cassandra:cassandra-all` from Maven Central, whose runtime
 * dependencies are the whole server classpath. No Docker, no tarball mirror: Maven resolves it once into the
 * cache, outside the clone.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchPom, libDir } from './config.js';
import { log, sleep } from './log.js';
import { isAlive } from './pids.js';
import type { ToolEnvironment } from './options.js';

// Pinned so the fetch does not depend on the Maven 3.8.7 default (2.x) plugin version.
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

export function isFetched(env: ToolEnvironment): boolean {
  const lib = libDir(env);
  return (
    existsSync(join(lib, '..', '.fetch-complete')) &&
    existsSync(join(lib, `cassandra-all-${env.version}.jar`))
  );
}

export function hasMaven(): boolean {
  return spawnSync('mvn', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function fetchCassandra(env: ToolEnvironment): Promise<void> {
  const lib = libDir(env);
  if (isFetched(env)) {
    log(`cassandra-all ${env.version} already fetched: ${lib}`);
    return;
  }
  if (!hasMaven()) throw new Error('mvn not found (needed once to fetch cassandra-all from Maven Central)');
  mkdirSync(join(lib, '..'), { recursive: true });
  // Serialise concurrent fetches (e.g. two CI steps) on the same cache. The lock is a file naming its
  // holder's pid, not an open descriptor, so a Cassandra started afterwards holds nothing of it.
  const release = await lock(join(lib, '..', '.fetch.lock'));
  try {
    if (isFetched(env)) log(`fetched by a concurrent run: ${lib}`);
    else fetchLocked(env, lib);
  } finally {
    release();
  }
}

function fetchLocked(env: ToolEnvironment, lib: string): void {
  const work = mkdtempSync(join(tmpdir(), 'es-cassandra-fetch-'));
  const staging = `${lib}.tmp`;
  try {
    writeFileSync(join(work, 'pom.xml'), fetchPom(env.version));
    log(`fetching cassandra-all ${env.version} and its runtime dependencies (~70 MB) ...`);
    const started = Date.now();
    rmSync(staging, { recursive: true, force: true });
    // Output is kept (Maven 3.8 prints stray colour escapes even with -B -q) and shown only on failure.
    const mvn = spawnSync(
      'mvn',
      [
        '-B',
        '-q',
        '-f',
        join(work, 'pom.xml'),
        ...env.mvnArgs,
        `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        '-DincludeScope=runtime',
        `-DoutputDirectory=${staging}`,
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (mvn.status !== 0) {
      process.stderr.write(`${mvn.stdout ?? ''}${mvn.stderr ?? ''}${mvn.error?.message ?? ''}\n`);
      throw new Error(`mvn failed to fetch cassandra-all ${env.version}`);
    }
    if (!existsSync(join(staging, `cassandra-all-${env.version}.jar`))) {
      throw new Error('cassandra-all jar missing after fetch');
    }
    // Swap in whole, so a half-finished download is never mistaken for a complete one.
    rmSync(lib, { recursive: true, force: true });
    renameSync(staging, lib);
    const jars = readdirSync(lib);
    writeFileSync(join(lib, '..', '.fetch-complete'), `${jars.join('\n')}\n`);
    log(`fetched ${jars.length} jars into ${lib} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Waits until `file` can be created; a lock whose holder died is taken over. */
async function lock(file: string, timeoutMs = 15 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(file, 'utf8').trim());
    } catch {
      continue; // released meanwhile
    }
    if (!isAlive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another fetch (pid ${holder}) holds ${file}`);
    await sleep(1000);
  }
}
