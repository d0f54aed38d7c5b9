/**
 * A node whose wall clock runs off the machine's (`ring restart N --clock-offset +5s`), through Cassandra's own
 * hook: the system property `cassandra.clock` names the class Clock.Global reads every wall-clock time from,
 * and ../java/OffsetClock.java is one that adds `es.clock.offset.ms`. Compiled once per source and Cassandra
 * version into the cache beside the lib directory; the offset lives in the node's command line, where `ring
 * status` reads it back.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OFFSET_CLOCK_CLASS = 'es.cassandra.OffsetClock';
export const OFFSET_PROPERTY = 'es.clock.offset.ms';
export const OFFSET_CLOCK_SOURCE = fileURLToPath(new URL('../java/OffsetClock.java', import.meta.url));

/** What a node whose clock runs `offsetSeconds` off needs on its command line (with `classes` on its class path). */
export interface ClockOffset {
  readonly offsetSeconds: number;
  /** The directory holding the compiled OffsetClock (offsetClockClasses). */
  readonly classes: string;
}

/** The system properties that put the node on OffsetClock, `offsetSeconds` off. */
export function clockOffsetProperties(offsetSeconds: number): string[] {
  return [`-Dcassandra.clock=${OFFSET_CLOCK_CLASS}`, `-D${OFFSET_PROPERTY}=${offsetSeconds * 1000}`];
}

/**
 * The clock offset (seconds) a running process was started with, from its command line (as
 * clockOffsetProperties writes it): 0 when it runs on the true clock, undefined when unreadable.
 */
export function processClockOffset(pid: number): number | undefined {
  let commandLine: string[];
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
  return commandLineClockOffset(commandLine);
}

/** The offset (seconds) a JVM command line sets; 0 without OffsetClock, undefined when malformed. */
export function commandLineClockOffset(commandLine: readonly string[]): number | undefined {
  if (!commandLine.includes(`-Dcassandra.clock=${OFFSET_CLOCK_CLASS}`)) return 0;
  const prefix = `-D${OFFSET_PROPERTY}=`;
  const value = commandLine.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
  if (value === undefined) return 0; // OffsetClock without the property runs on the true clock
  const ms = /^-?\d+$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(ms) ? ms / 1000 : undefined;
}

/** javac beside `java` (findJava's), or on PATH; throws naming the package that has it. */
export function findJavac(java: string): string {
  const beside = java.includes('/') ? join(dirname(java), 'javac') : 'javac';
  if (existsSync(beside) || spawnSync(beside, ['-version'], { stdio: 'ignore' }).status === 0) return beside;
  throw new Error(
    `javac not found (looked for ${beside}): a node with a clock offset needs the JDK to compile ` +
      `${basename(OFFSET_CLOCK_SOURCE)}. Install openjdk-17-jdk-headless.`,
  );
}

/**
 * The directory holding OffsetClock compiled against the Cassandra in `lib` (libDir): `<lib>/../offset-clock-
 * <hash of the source>`, compiled on first use (a changed source gets a new directory, so a stale class is
 * never used). Compiled into a temporary directory and renamed, so two nodes starting at once both get a
 * whole one.
 */
export function offsetClockClasses(lib: string, version: string, java: string): string {
  const source = readFileSync(OFFSET_CLOCK_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const target = join(lib, '..', `offset-clock-${hash}`);
  const classFile = join(target, ...OFFSET_CLOCK_CLASS.split('.')) + '.class';
  if (existsSync(classFile)) return target;
  mkdirSync(dirname(target), { recursive: true });
  const work = mkdtempSync(`${target}.tmp-`);
  try {
    const jar = join(lib, `cassandra-all-${version}.jar`);
    const result = spawnSync(
      findJavac(java),
      ['--release', '17', '-nowarn', '-cp', jar, '-d', work, OFFSET_CLOCK_SOURCE],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) {
      throw new Error(
        `javac failed on ${OFFSET_CLOCK_SOURCE} (against ${jar}): ${result.error?.message ?? ''}${result.stderr}`,
      );
    }
    try {
      renameSync(work, target);
    } catch (error) {
      if (!existsSync(classFile)) throw error; // otherwise a concurrent start compiled it first
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}
