import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PUBLISHED, manifest, packageFolder, root } from '../src/packages.js';

/**
 * The issue's "done when": the five published packages as npm would ship them (built, then `pnpm pack`),
 * installed together into a fresh project outside the workspace, each entry point loaded there as ESM and
 * as CommonJS, a user's app compiled there under `tsc --strict` with NodeNext
 * and with bundler resolution, run as ESM and as CommonJS on SQLite, and a run that forgets `await` on
 * save and close loses nothing. Installs from the pnpm store (--prefer-offline): no registry needed once
 * the workspace is installed.
 */
const run = promisify(execFile);
const PACKED = PUBLISHED;
const PNPM = process.env.npm_execpath?.includes('pnpm') ? process.env.npm_execpath : undefined;

async function sh(command: string, args: readonly string[], cwd: string, timeout = 240_000): Promise<string> {
  const [file, ...rest] = PNPM && command === 'pnpm' ? [process.execPath, PNPM, ...args] : [command, ...args];
  try {
    const { stdout } = await run(file!, rest, { cwd, timeout, env: { ...process.env, NODE_OPTIONS: '' } });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}`,
    );
  }
}

let project: string;
const version = (folder: string) => manifest(packageFolder(folder as 'core')).version;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'es-packed-'));
  // The packages as published: built, then packed by pnpm (which turns workspace: ranges into versions).
  await sh(
    'pnpm',
    // turbo: its cache makes this instant after `pnpm build` (as CI runs it), and rebuilds what changed.
    ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', ...PACKED.map((p) => `--filter=@es/${p}`)],
    root,
    400_000,
  );
  for (const folder of PACKED)
    await sh('pnpm', ['pack', '--pack-destination', project], packageFolder(folder));
  const tarballs = Object.fromEntries(
    readdirSync(project)
      .filter((f) => f.endsWith('.tgz'))
      .map((f) => [`@es/${f.replace(/^es-/, '').replace(/-[\d.]+\.tgz$/, '')}`, `file:${join(project, f)}`]),
  );
  const rootDev = manifest(root) as unknown as { devDependencies: Record<string, string> };
  const sqlDev = manifest(packageFolder('sql')).devDependencies!;
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'first-user-app',
      private: true,
      dependencies: { ...tarballs, 'better-sqlite3': sqlDev['better-sqlite3'] },
      devDependencies: {
        typescript: rootDev.devDependencies.typescript,
        '@types/node': rootDev.devDependencies['@types/node'],
      },
      // @es/sql names @es/core by version: the tarball, not the registry. pnpm 10 builds better-sqlite3 only when allowed.
      pnpm: { overrides: tarballs, onlyBuiltDependencies: ['better-sqlite3'] },
    }),
  );
  await sh(
    'pnpm',
    ['install', '--prefer-offline', '--ignore-workspace', '--config.confirmModulesPurge=false'],
    project,
    400_000,
  );

  const app = readFileSync(join(__dirname, '..', 'fixture', 'app.mts'), 'utf8');
  writeFileSync(join(project, 'app.mts'), app);
  // The same app as CommonJS: no top-level await there, so its body runs in a function.
  const [head, body] = app.split(/^(?=const \[url, mode\])/m) as [string, string];
  writeFileSync(
    join(project, 'app.cts'),
    `${head}async function main(): Promise<void> {\n${body}}\nvoid main();\n`,
  );
  writeFileSync(join(project, 'app.ts'), app.replace(/^/, 'export {};\n'));
  const strict = {
    strict: true,
    target: 'ES2022',
    lib: ['ES2023', 'ESNext.Disposable'],
    types: ['node'],
    skipLibCheck: false,
  };
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext', outDir: 'out' },
      files: ['app.mts', 'app.cts'],
    }),
  );
  writeFileSync(
    join(project, 'tsconfig.bundler.json'),
    JSON.stringify({
      compilerOptions: { ...strict, module: 'ESNext', moduleResolution: 'bundler', noEmit: true },
      files: ['app.ts'],
    }),
  );
}, 900_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

const tsc = () => join(project, 'node_modules', 'typescript', 'bin', 'tsc');

test('the tarballs hold LICENSE, README and builds only, and name their dependencies by version', async () => {
  for (const folder of PACKED) {
    // What the tarball holds (the installed folder may also get a node_modules of pnpm's links).
    const tarball = readdirSync(project).find((f) => f.startsWith(`es-${folder}-`) && f.endsWith('.tgz'))!;
    const listed = await sh('tar', ['-tzf', tarball], project);
    const top = new Set(
      listed
        .split('\n')
        .filter(Boolean)
        .map((path) => path.split('/')[1]),
    );
    expect([...top].sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
    const installed = join(project, 'node_modules', '@es', folder);
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    for (const range of Object.values({ ...pkg.dependencies, ...pkg.peerDependencies }))
      expect(range).not.toMatch(/^workspace:/);
  }
  // One release: every package at the same version (they name each other by it).
  expect(new Set(PACKED.map(version))).toEqual(new Set([version('core')]));
});

/** Each package's entry points, as `@es/x` or `@es/x/sub`, from its manifest's exports. */
const entryPoints = PACKED.flatMap((folder) =>
  Object.keys(manifest(packageFolder(folder)).exports ?? { '.': '' })
    .filter((key) => key !== './package.json')
    // The conformance suite defines jest tests when loaded: it needs jest's runtime (its optional peer).
    .filter((key) => !(folder === 'testing' && key === './conformance'))
    .map((key) => `@es/${folder}${key.slice(1)}`),
);

test.each(entryPoints)(
  '%s loads from its tarball as ESM and as CommonJS, and exports something',
  async (name) => {
    const count = `(m) => console.log(Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').length)`;
    const esm = await sh(
      process.execPath,
      ['--input-type=module', '-e', `import * as m from '${name}'; (${count})(m);`],
      project,
    );
    const cjs = await sh(process.execPath, ['-e', `(${count})(require('${name}'))`], project);
    expect(Number(esm.trim())).toBeGreaterThan(0);
    expect(Number(cjs.trim())).toBe(Number(esm.trim()));
  },
);

test('a user app compiles under tsc --strict with NodeNext and with bundler resolution, no skipLibCheck', async () => {
  await sh(process.execPath, [tsc(), '-p', 'tsconfig.json'], project);
  await sh(process.execPath, [tsc(), '-p', 'tsconfig.bundler.json'], project);
  expect(readdirSync(join(project, 'out')).sort()).toEqual(['app.cjs', 'app.mjs']);
}, 240_000);

test.each(['app.mjs', 'app.cjs'])(
  '%s runs on SQLite: saves, reads back typed, and a closed app refuses',
  async (file) => {
    const url = `sqlite:${join(project, `${file}.sqlite`)}`;
    const stdout = await sh(process.execPath, [join('out', file), url, 'first'], project);
    expect(JSON.parse(stdout.trim())).toEqual({ owner: 'Ada', balance: 5, afterClose: 'StoreClosedError' });
  },
);

test.each(['app.mjs', 'app.cjs'])(
  '%s: forgetting await on save and close loses nothing, and the process exits',
  async (file) => {
    const database = join(project, `${file}-forget.sqlite`);
    await sh(process.execPath, [join('out', file), `sqlite:${database}`, 'forget-await'], project, 60_000);
    // Read with the installed driver: every account's two events are there.
    const count = await sh(
      process.execPath,
      [
        '-e',
        `const D=require('better-sqlite3');const d=new D(${JSON.stringify(database)},{readonly:true});console.log(d.prepare('select count(*) as n from integer_sequenced_items').get().n)`,
      ],
      project,
    );
    expect(Number(count.trim())).toBe(40);
  },
);
