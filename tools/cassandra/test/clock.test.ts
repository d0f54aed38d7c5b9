/**
 * OffsetClock (java/OffsetClock.java), compiled by the tool against the real cassandra-all jar and loaded by
 * Cassandra's own Clock.Global the way a skewed node loads it: through the properties clockOffsetProperties
 * gives the node (test/OffsetClockProbe.java reads Clock.Global in a JVM of its own).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OFFSET_CLOCK_CLASS,
  clockOffsetProperties,
  commandLineClockOffset,
  findJavac,
  offsetClockClasses,
} from '../src/clock.js';
import { libDir } from '../src/config.js';
import { fetchCassandra } from '../src/fetch.js';
import { findJava } from '../src/node.js';
import { toolEnvironment } from '../src/options.js';

const env = toolEnvironment();
const lib = libDir(env);
const PROBE = join(__dirname, 'OffsetClockProbe.java');

describe('a clock offset on the command line', () => {
  it('reads back as seconds; none, or OffsetClock without its property, is the true clock', () => {
    expect(commandLineClockOffset(['java', ...clockOffsetProperties(5), 'Main'])).toBe(5);
    expect(commandLineClockOffset(clockOffsetProperties(-3600))).toBe(-3600);
    expect(commandLineClockOffset(['java', '-Des.clock.offset.ms=5000', 'Main'])).toBe(0);
    expect(commandLineClockOffset([`-Dcassandra.clock=${OFFSET_CLOCK_CLASS}`])).toBe(0);
    expect(
      commandLineClockOffset([`-Dcassandra.clock=${OFFSET_CLOCK_CLASS}`, '-Des.clock.offset.ms=5s']),
    ).toBe(undefined);
  });
});

describe('OffsetClock', () => {
  let work: string;
  let classes: string;
  const java = findJava();

  beforeAll(async () => {
    await fetchCassandra(env); // the jar it implements Clock from; cached after the first fetch
    // Compiled into a scratch cache, beside a lib directory that holds only the jar it compiles against.
    work = mkdtempSync(join(tmpdir(), 'es-offset-clock-'));
    mkdirSync(join(work, 'lib'));
    const jar = `cassandra-all-${env.version}.jar`;
    symlinkSync(join(lib, jar), join(work, 'lib', jar));
    classes = offsetClockClasses(join(work, 'lib'), env.version, java);
    // The probe compiled once here, not by java's source launcher in each run below.
    const javac = spawnSync(findJavac(java), ['-cp', join(lib, jar), '-d', join(work, 'probe'), PROBE], {
      encoding: 'utf8',
    });
    expect(javac.stderr).toBe('');
  }, 600_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('compiles once into the cache beside the lib directory, named by its source', () => {
    expect(classes).toMatch(new RegExp(`^${work}/offset-clock-[0-9a-f]{12}$`));
    const classFile = join(classes, 'es/cassandra/OffsetClock.class');
    const compiled = statSync(classFile).mtimeMs;
    expect(offsetClockClasses(join(work, 'lib'), env.version, java)).toBe(classes);
    expect(statSync(classFile).mtimeMs).toBe(compiled);
  });

  /** Clock.Global in a JVM started with `properties`: the class it chose, its wall and nano offsets. */
  function probe(properties: readonly string[]) {
    const classPath = `${lib}/*:${classes}:${join(work, 'probe')}`;
    const run = spawnSync(java, ['-cp', classPath, ...properties, 'OffsetClockProbe'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [chosen, wall, nano] = run.stdout.trim().split('\n');
    // Each offset is read between two of the JVM's own clock readings: a range that holds the true offset.
    const range = (line: string | undefined) => line!.split(' ').map(Number) as [number, number];
    return { chosen, wall: range(wall), nano: range(nano) };
  }

  it.each([5, -30])(
    'moves Cassandra’s wall clock %i s and leaves its nanoTime alone',
    (seconds) => {
      const { chosen, wall, nano } = probe(clockOffsetProperties(seconds));
      expect(chosen).toBe(OFFSET_CLOCK_CLASS);
      const [fromBefore, fromAfter] = wall;
      expect(fromBefore).toBeGreaterThanOrEqual(seconds * 1000);
      expect(fromAfter).toBeLessThanOrEqual(seconds * 1000);
      const [nanoFromBefore, nanoFromAfter] = nano;
      expect(nanoFromBefore).toBeGreaterThanOrEqual(0);
      expect(nanoFromAfter).toBeLessThanOrEqual(0);
    },
    180_000,
  );

  it('is not used without the properties: Cassandra’s default clock, on the true time', () => {
    const { chosen, wall } = probe([]);
    expect(chosen).toBe('org.apache.cassandra.utils.Clock$Default');
    expect(wall[0]).toBeGreaterThanOrEqual(0);
    expect(wall[1]).toBeLessThanOrEqual(0);
  }, 180_000);
});
