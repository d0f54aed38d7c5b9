import { refusalOf } from './refusal.js';
import { SCENARIOS } from '../src/adapter.js';
import { IMPLEMENTATIONS, parseCommandLine, parseList, parsePositive } from '../src/command-line.js';
import { FULL_SIZES, QUICK_SIZES, sizesFor } from '../src/scenarios/sizes.js';

const parse = (...argv: string[]) => parseCommandLine(argv, { exit: false });

const refusal = (...argv: string[]) => refusalOf(parse, ...argv);

describe('the command line', () => {
  it('runs everything once at full size by default, every backend optional', () => {
    const options = parse();
    expect(options.backends).toBeUndefined();
    expect(options.scenarios).toEqual([...SCENARIOS]);
    expect(options.implementations).toEqual([...IMPLEMENTATIONS]);
    expect(options).toMatchObject({ quick: false, rounds: 1, cpuProf: false, sizes: {} });
  });

  it("names backends as tools/servers' table does, in its order", () => {
    expect(parse('--backends', 'cassandra, memory,mysql').backends).toEqual(['memory', 'mysql', 'cassandra']);
    for (const old of ['in-memory', 'mariadb']) {
      const error = refusal('-b', old);
      expect(error.code).toBe('commander.invalidArgument');
      expect(error.message).toContain(
        `unknown backend(s) ${old}; known: memory, sqlite, postgres, mysql, cassandra`,
      );
    }
  });

  it('reads lists of scenarios and implementations, trimming spaces and refusing unknown or no names', () => {
    const options = parse('-s', 'load, batch', '-i', 'library,raw');
    expect(options.scenarios).toEqual(['load', 'batch']);
    expect(options.implementations).toEqual(['library', 'raw']);
    expect(refusal('-s', 'load,replay').message).toContain(
      '"replay" is not one of single, batch, writers, contention, load, log',
    );
    expect(refusal('-i', ' , ').message).toContain('name at least one of library, raw, emmett');
    expect(parseList(['a', 'b'] as const)('b,,a')).toEqual(['b', 'a']);
  });

  it('takes sizes and rounds as positive whole numbers, and keeps only the sizes given', () => {
    const options = parse('--batches', '500', '--batch-size', '10', '--rounds', '3');
    expect(options.sizes).toEqual({ batches: 500, batchSize: 10 });
    expect(options.rounds).toBe(3);
    for (const bad of ['0', '-1', '1.5', '1e3', 'ten', '']) {
      expect(() => parsePositive(bad)).toThrow('must be a positive whole number');
    }
    expect(refusal('--loads', '0').message).toContain('must be a positive whole number');
    expect(parsePositive(' 42 ')).toBe(42);
  });

  it('reads the flags and the files', () => {
    expect(parse('-q', '--cpu-prof', '-o', 'out.json')).toMatchObject({
      quick: true,
      cpuProf: true,
      out: 'out.json',
    });
    expect(parse('--report', 'results/a.json').report).toBe('results/a.json');
    expect(refusal('--help').exitCode).toBe(0);
    expect(refusal('--no-such-option').code).toBe('commander.unknownOption');
  });
});

describe('sizes of a backend', () => {
  it('are the preset with the counts multiplied by the scale (in memory, 10x), then the sizes given as they are', () => {
    const memory = sizesFor(false, 10, { batches: 7 });
    expect(memory.single).toBe(FULL_SIZES.single * 10);
    expect(memory.logEvents).toBe(FULL_SIZES.logEvents * 10);
    // Shapes are not scaled, and a size given on the command line is not either.
    expect(memory.batchSize).toBe(FULL_SIZES.batchSize);
    expect(memory.writers).toBe(FULL_SIZES.writers);
    expect(memory.batches).toBe(7);
    expect(sizesFor(true, 1, {})).toEqual(QUICK_SIZES);
  });
});
