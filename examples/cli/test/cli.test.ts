import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/index.js';

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

  it('rejects an unknown backend in one line, with exit code 1', async () => {
    const fromFlag = await run(['--backend', 'oracle']);
    expect(fromFlag.code).toBe(1);
    expect(fromFlag.errLines).toHaveLength(1);
    expect(fromFlag.err).toMatch(/oracle.*Allowed choices are sqlite, memory, postgres, mysql, cassandra/);
    const fromEnv = await run([], { ES_BACKEND: 'oracle' });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.err).toBe(
      'Unknown backend "oracle" (from ES_BACKEND): choose one of sqlite, memory, postgres, mysql, cassandra.',
    );
  });

  it('says in one line how to start a server that is not reachable, with exit code 1', async () => {
    const { code, errLines, out } = await run(['--backend', 'cassandra'], { CASSANDRA_PORT: '1' });
    expect(code).toBe(1);
    expect(errLines).toEqual([
      expect.stringMatching(
        /^Cassandra is not reachable \(.*127\.0\.0\.1:1.*\)\. Start one with: pnpm cassandra start \(or point CASSANDRA_HOSTS \/ CASSANDRA_PORT at one\)\.$/,
      ),
    ]);
    expect(out).toBe('');
  });

  it.each([
    [
      'postgres',
      { ES_POSTGRES_URL: 'postgres://postgres@127.0.0.1:1/test' },
      /^PostgreSQL is not reachable \(.*\)\. Start it \(e\.g\. sudo service postgresql start\) or point ES_POSTGRES_URL at one\.$/,
    ],
    [
      'mysql',
      { ES_MYSQL_URL: 'mysql://root@127.0.0.1:1/test' },
      /^MySQL\/MariaDB is not reachable \(.*\)\. Start it \(e\.g\. sudo service mariadb start\) or point ES_MYSQL_URL at one\.$/,
    ],
  ])('says the same for %s', async (backend, env, message) => {
    const { code, errLines } = await run(['--backend', backend], env);
    expect(code).toBe(1);
    expect(errLines).toEqual([expect.stringMatching(message)]);
  });

  it('prints help and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/--backend <name>/);
  });
});
