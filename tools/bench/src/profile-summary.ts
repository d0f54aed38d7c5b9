/**
 * Summarises a V8 CPU profile (from `pnpm bench --cpu-prof`, or `node --cpu-prof`): the top frames by
 * self time and by inclusive time, with their share of the samples.
 *
 *     pnpm --filter @es/bench profile-summary tools/bench/results/profiles/<backend>-<implementation>-<pass>.cpuprofile [--top 25] [--filter text]
 *
 * Given a directory (of `node --cpu-prof` output), it reads the busiest profile in it: V8 writes one per
 * thread, and tsx's module loader runs in a thread of its own.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

// Piped into `head`: stop quietly when the reader has had enough.
process.stdout.on('error', () => process.exit(0));

const args = process.argv.slice(2);
const given = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
// Read from the directory the command was typed in (pnpm runs us in tools/bench).
const file = given === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), given);
const top = Number(args[args.indexOf('--top') + 1] ?? 25) || 25;
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args[filterAt + 1] : undefined;
if (!file) {
  process.stderr.write('usage: profile-summary <file.cpuprofile> [--top N] [--filter text]\n');
  process.exit(2);
}

const busy = (p: Profile): number => {
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return p.samples.filter((id) => !idle.has(id)).length;
};
const candidates = statSync(file).isDirectory()
  ? readdirSync(file)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(file, f))
  : [file];
const profile = candidates
  .map((f) => JSON.parse(readFileSync(f, 'utf8')) as Profile)
  .reduce((a, b) => (busy(b) > busy(a) ? b : a));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const frameName = (n: ProfileNode): string => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${relative(process.cwd(), url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

// Time per sample: the delta to the next sample.
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  total += dt;
  let node = byId.get(profile.samples[i]!);
  if (!node) continue;
  self.set(frameName(node), (self.get(frameName(node)) ?? 0) + dt);
  const seen = new Set<string>();
  while (node) {
    const name = frameName(node);
    if (!seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
    }
    const up = parent.get(node.id);
    node = up === undefined ? undefined : byId.get(up);
  }
}

const print = (title: string, table: Map<string, number>) => {
  process.stdout.write(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)\n`);
  const rows = [...table]
    .filter(([name]) => !filter || name.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  for (const [name, us] of rows) {
    process.stdout.write(
      `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}\n`,
    );
  }
};
print('self time', self);
print('inclusive time', inclusive);
