import { CommanderError } from 'commander';

/** The commander error `parse` gives for a command line (its message names the option and why). */
export function refusalOf(parse: (...argv: string[]) => unknown, ...argv: string[]): CommanderError {
  try {
    parse(...argv);
  } catch (error) {
    if (error instanceof CommanderError) return error;
    throw error;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}
