/** `pnpm cassandra ...`: see USAGE in options.ts, or `pnpm cassandra help`. */
import { fetchCassandra } from './fetch.js';
import { checkRing } from './ring-check.js';
import { type Command, USAGE, UsageError, parseCommand, toolEnvironment } from './options.js';
import {
  describeRingStatus,
  killRingNode,
  restartRingNode,
  ringStatus,
  startRing,
  stopRing,
  waitForRing,
} from './ring.js';
import { describeNodeStatus, nodeStatus, startNode, stopNode } from './single.js';

async function run(command: Command): Promise<number> {
  const env = toolEnvironment();
  switch (command.command) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'fetch':
      await fetchCassandra(env);
      return 0;
    case 'start':
      await startNode(command.node, env);
      return 0;
    case 'stop':
      await stopNode(command.name, env);
      return 0;
    case 'status': {
      const status = await nodeStatus(command.name, env);
      process.stdout.write(`${describeNodeStatus(status)}\n`);
      return status.running ? 0 : 3;
    }
    case 'ring start': {
      const { url } = await startRing(command.ring, env);
      process.stdout.write(`${url}\n`);
      return 0;
    }
    case 'ring stop':
      await stopRing(command.name, env);
      return 0;
    case 'ring status': {
      const status = await ringStatus(command.name, env);
      process.stdout.write(`${describeRingStatus(status)}\n`);
      return status.nodes.every((node) => node.state === 'UN') ? 0 : 3;
    }
    case 'ring kill':
      await killRingNode(command.name, command.node, env);
      return 0;
    case 'ring restart':
      await restartRingNode(command.name, command.node, env, {
        ...(command.clockOffsetSeconds !== undefined && { clockOffsetSeconds: command.clockOffsetSeconds }),
      });
      return 0;
    case 'ring check': {
      const report = await checkRing(command.name, env);
      process.stdout.write(`${JSON.stringify(report)}\n`);
      const all = 2 * report.writtenBefore + 1;
      const ok =
        report.writtenWhileDown.failed === 0 &&
        report.lwtWhileDown &&
        report.readWhileDown.rows === all &&
        report.readAtAllAfter.rows === all;
      return ok ? 0 : 1;
    }
    case 'ring wait':
      await waitForRing(command.name, env, command.node);
      return 0;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    return await run(parseCommand(argv));
  } catch (error) {
    process.stderr.write(`[cassandra] ERROR: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
