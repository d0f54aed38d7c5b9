import { jest } from '@jest/globals';
import { describeIfAvailable, requireServer } from '../src/conformance.js';

describe('requireServer', () => {
  const ci = process.env.CI;
  let warn: ReturnType<typeof jest.spyOn>;

  beforeEach(() => {
    warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    warn.mockRestore();
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });

  it('is true, silently, when the probe succeeds', () => {
    process.env.CI = 'true';
    expect(requireServer('PostgreSQL', () => true, 'pg_ctlcluster 15 main start')).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('locally: is false and prints a loud banner naming the server and how to start it', () => {
    delete process.env.CI;
    expect(requireServer('PostgreSQL', () => false, 'pg_ctlcluster 15 main start')).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    const banner = String(warn.mock.calls[0]?.[0]);
    expect(banner).toContain('PostgreSQL is not reachable');
    expect(banner).toContain('pg_ctlcluster 15 main start');
    expect(banner).toContain('SKIPPED');
    expect(banner).toMatch(/^!!!!/);
  });

  it('under CI=true: throws, naming the server and how to start it', () => {
    process.env.CI = 'true';
    expect(() => requireServer('Cassandra', () => false, 'pnpm cassandra start')).toThrow(
      /CI=true: Cassandra is not reachable.*pnpm cassandra start/,
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it('a probe that throws counts as unavailable, and its message is kept', () => {
    process.env.CI = '1';
    const probe = () => {
      throw new Error('ECONNREFUSED 127.0.0.1:3306');
    };
    expect(() => requireServer('MariaDB', probe, 'mariadbd &')).toThrow(
      /MariaDB is not reachable \(ECONNREFUSED 127.0.0.1:3306\)/,
    );
  });
});

describe('describeIfAvailable', () => {
  let ran = false;
  describeIfAvailable(true, 'available', () => {
    it('runs its tests', () => {
      ran = true;
    });
  });
  describeIfAvailable(false, 'unavailable', () => {
    it('skips its tests (this one would fail)', () => {
      throw new Error('a test of an unavailable server ran');
    });
  });
  it('ran the available block', () => {
    expect(ran).toBe(true);
  });
});
