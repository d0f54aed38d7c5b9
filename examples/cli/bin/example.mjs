#!/usr/bin/env node
// `pnpm example`: builds the packages the CLI runs on (turbo; cached after the first run), then runs it
// with plain node. Set ES_EXAMPLE_SKIP_BUILD=1 to skip the build.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const turbo = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'turbo.cmd' : 'turbo');

function build() {
  return new Promise((resolve) => {
    const child = spawn(turbo, ['run', 'build', '--filter=@es/example-cli...', '--output-logs=errors-only'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    // A cached build takes about a second: say something only when it is doing real work.
    const notice = setTimeout(
      () =>
        process.stderr.write(
          'Building the @es packages (about a minute the first time; cached after that)...\n',
        ),
      2000,
    );
    const done = (failure) => {
      clearTimeout(notice);
      if (failure) process.stderr.write(`${output}The build failed (${failure}): see above.\n`);
      resolve(!failure);
    };
    child.once('error', (error) => done(error.message));
    child.once('close', (code) => done(code === 0 ? undefined : `exit code ${code}`));
  });
}

// Output piped into `head` closes early: stop quietly. Anything else unexpected: one line, no stack trace.
process.stdout.on('error', (error) => process.exit(error.code === 'EPIPE' ? 0 : 1));
process.on('uncaughtException', (error) => {
  process.stderr.write(`pnpm example: ${error.message.split('\n')[0]}\n`);
  process.exit(1);
});

if (!process.env.ES_EXAMPLE_SKIP_BUILD && !(await build())) process.exit(1);

const { main } = await import('../dist/index.js');
process.exitCode = await main(process.argv.slice(2));
