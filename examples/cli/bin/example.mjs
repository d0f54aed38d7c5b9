#!/usr/bin/env node
// `pnpm example`: builds the packages the CLI runs on (turbo; cached after the first run), then runs it
// with plain node. Set ES_EXAMPLE_SKIP_BUILD=1 to skip the build.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const turbo = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'turbo.cmd' : 'turbo');

if (!process.env.ES_EXAMPLE_SKIP_BUILD) {
  process.stderr.write('Building the @es packages (a minute the first time; cached after that)...\n');
  const build = spawnSync(
    turbo,
    ['run', 'build', '--filter=@es/example-cli...', '--output-logs=errors-only'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (build.status !== 0) {
    process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`);
    process.stderr.write(
      `The build failed (${build.error?.message ?? `exit code ${build.status}`}): see above.\n`,
    );
    process.exit(1);
  }
}

const { main } = await import('../dist/index.js');
process.exitCode = await main(process.argv.slice(2));
