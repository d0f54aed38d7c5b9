import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from '../src/packages.js';

/**
 * `pnpm docs` builds the API reference of the published packages from their sources (typedoc.json:
 * every entry point, including the subpaths), with warnings treated as errors: a broken {@link}, an
 * exported signature that names a type the entry points do not export, an unknown tag. Here it runs
 * without writing (`--emit none`), so CI checks it on every `pnpm test`. It names a git remote no
 * checkout has: the source links come from typedoc.json's template, so a checkout without an `origin` on
 * GitHub (a source tarball, a fresh `git init`, a clone of a clone) builds the reference too (without the
 * template, typedoc warned "The provided git remote ... was not valid", a failure here).
 */
test('pnpm docs builds the API reference with no warning', () => {
  const result = spawnSync(
    join(root, 'node_modules', '.bin', 'typedoc'),
    ['--emit', 'none', '--gitRemote', 'es-no-such-remote'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 200_000,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    },
  );
  const output = `${result.stdout}${result.stderr}`;
  expect({ status: result.status, warnings: output.match(/.*\[warning\].*/g) ?? [] }).toEqual({
    status: 0,
    warnings: [],
  });
}, 240_000);
