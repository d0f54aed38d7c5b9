/**
 * `pnpm servers probe [names]`: says whether each server is ready (exit 1 if one is not);
 * `pnpm servers table`: the table of backends, in Markdown.
 */
import { BACKENDS, SERVER_NAMES, type ServerName, backendsMarkdown, parseBackendList } from './backends.js';
import { describeProbe, probeAll } from './probe.js';

async function main(argv: readonly string[]): Promise<number> {
  const [command, list] = argv;
  if (command === 'table') {
    process.stdout.write(`${backendsMarkdown()}\n`);
    return 0;
  }
  if (command === 'probe') {
    const names = (list ? parseBackendList(list) : SERVER_NAMES).filter(
      (name): name is ServerName => BACKENDS[name].server !== undefined,
    );
    const results = await probeAll(names);
    for (const result of results) process.stdout.write(`${describeProbe(result)}\n`);
    return results.every((result) => result.ok) ? 0 : 1;
  }
  process.stderr.write('usage: servers probe [postgres,mysql,cassandra] | servers table\n');
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`servers: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
