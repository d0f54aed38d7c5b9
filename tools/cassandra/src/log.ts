/** The tool's messages go to stderr, so that `status` output on stdout stays clean for scripts. */
export function log(message: string): void {
  process.stderr.write(`[cassandra] ${message}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
