import type { Progress } from './scenarios/runner.js';

/** A progress line on stderr: rewritten in place on a terminal, one line per phase otherwise. */
export function progressLine(prefix: string): Progress & { say(text: string): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let lastWhat = '';
  return {
    step(what, done, total) {
      const now = performance.now();
      if (tty) {
        if (now - last < 100 && done !== total) return;
        last = now;
        process.stderr.write(`\r\x1b[K${prefix} ${what} ${done}/${total}`);
      } else if (what !== lastWhat) {
        lastWhat = what;
        process.stderr.write(`${prefix} ${what} (${total})\n`);
      }
    },
    say(text) {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${prefix} ${text}\n`);
    },
  };
}
