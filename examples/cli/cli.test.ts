import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS, SERVER_NAMES, howToStart } from '@es/servers';
import { requireBackend } from '@es/servers/jest';
import { describeIfAvailable } from '@es/testing/conformance';
import { main } from './cli.js';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: tmpdir() });
  return { code, out: out.join('\n'), err: err.join('\n'), errLines: err };
}

describe('pnpm example', () => {
  it('prints each step of the seed scenario on the in-memory backend', async () => {
    const { code, out, err } = await run(['--backend', 'memory']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain("The seed's scenario on in-memory");
    expect(out).toMatch(/1\. create +entity = app\.createExample\('bar1'\)/);
    expect(out).toMatch(/stored +version 0 +example\.Example\.Created +\{.*"foo":"bar1"/);
    expect(out).toMatch(/get\(id\) +foo = 'bar1', version 1/);
    expect(out).toMatch(
      /stored +version 1 +example\.Example\.AttributeChanged +\{.*"name":"foo","value":"bar2"/,
    );
    expect(out).toMatch(/get\(id\) +foo = 'bar2', version 2/);
    expect(out).toMatch(/stored +version 2 +example\.Example\.Discarded/);
    expect(out).toMatch(/has\(id\) +false/);
    expect(out).toMatch(/get\(id\) +rejected with NotFoundError/);
    expect(out).toMatch(/entity +discarded at version 3/);
    expect(out).toContain('Notification log: this run added 3 entries (ids 1..3).');
    expect(out).toContain('Nothing is kept');
    expect(out).toContain('Other backends: pnpm example --backend sqlite|postgres|mysql|cassandra');
    expect(out).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('runs on a SQLite file by default, and the next run finds what the last one stored', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'es-example-cli-'));
    const first = await run(['--data-dir', dataDir]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain("The seed's scenario on SQLite");
    expect(first.out).toContain(
      `Data: SQLite file ${join(dataDir, 'example.sqlite')}, table integer_sequenced_items`,
    );
    expect(first.out).toContain('Earlier runs: none (the store is empty).');
    expect(first.out).toContain('Notification log: this run added 3 entries (ids 1..3).');
    expect(first.out).toContain('The store now holds 1 entity; notification log now has 3 entries.');

    const second = await run([], { ES_DATA_DIR: dataDir });
    expect(second.code).toBe(0);
    expect(second.out).toContain('Earlier runs: 1 entity found; the notification log has 3 entries.');
    const firstId = /Entity (\S+)/.exec(first.out)![1];
    expect(second.out).toContain(
      `The last one: id 3, example.Example.Discarded of entity ${firstId} at version 2.`,
    );
    expect(second.out).toContain('Notification log: this run added 3 entries (ids 4..6).');
    expect(second.out).toContain('The store now holds 2 entities; notification log now has 6 entries.');
  });

  it('takes the backend from ES_BACKEND', async () => {
    const { code, out } = await run([], { ES_BACKEND: 'memory' });
    expect(code).toBe(0);
    expect(out).toContain('on in-memory');
  });

  it('rejects an unknown backend in one line, naming the backends of the table, with exit code 1', async () => {
    const fromFlag = await run(['--backend', 'mariadb']);
    expect(fromFlag.code).toBe(1);
    expect(fromFlag.errLines).toHaveLength(1);
    expect(fromFlag.err).toMatch(/mariadb.*Allowed choices are memory, sqlite, postgres, mysql, cassandra/);
    const fromEnv = await run([], { ES_BACKEND: 'in-memory' });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.err).toBe(
      'Unknown backend "in-memory" (from ES_BACKEND): choose one of memory, sqlite, postgres, mysql, cassandra.',
    );
  });

  it.each([
    ['postgres', 'postgres://postgres@127.0.0.1:1/test'],
    ['mysql', 'mysql://root@127.0.0.1:1/test'],
    ['cassandra', 'cassandra://127.0.0.1:1/?localDataCenter=datacenter1'],
  ] as const)(
    'says in one line where %s was looked for and how to start it, with exit code 1',
    async (name, url) => {
      const { label, server } = BACKENDS[name];
      const { code, errLines, out } = await run(['--backend', name], { [server!.variable]: url });
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(errLines).toHaveLength(1);
      const [line] = errLines as [string];
      const [prefix, suffix] = [`${label} at ${url}: not ready (`, `). To start one: ${howToStart(name)}.`];
      expect(line.slice(0, prefix.length)).toBe(prefix);
      expect(line.slice(-suffix.length)).toBe(suffix);
    },
    30_000,
  );

  it('prints help and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/--backend <name>/);
  });
});

// Every server backend, end to end: the scenario runs, and the next run finds what it stored.
describe.each(SERVER_NAMES)('pnpm example --backend %s', (name) => {
  describeIfAvailable(requireBackend(name), `on ${BACKENDS[name].label}`, () => {
    it('runs the scenario, and the next run finds what the last one stored', async () => {
      const first = await run(['--backend', name], process.env);
      expect(first.err).toBe('');
      expect(first.code).toBe(0);
      const held = Number(/The store now holds (\d+) entit/.exec(first.out)?.[1]);
      const second = await run(['--backend', name], process.env);
      expect(second.code).toBe(0);
      // Other runs may share the server: at least what the first run left is found.
      expect(Number(/Earlier runs: (\d+) entit/.exec(second.out)?.[1])).toBeGreaterThanOrEqual(held);
      expect(held).toBeGreaterThanOrEqual(1);
    }, 60_000);
  });
});
