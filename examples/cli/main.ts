// `pnpm example`: tsx runs this file from its TypeScript sources, and the @es packages from theirs
// (tsconfig.base.json's `paths`), so nothing is built first.
import { main } from './cli.js';

// Output piped into `head` closes early: stop quietly. Anything else unexpected: one line, no stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 1));
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`pnpm example: ${error instanceof Error ? error.message.split('\n')[0] : error}\n`);
    process.exitCode = 1;
  },
);
