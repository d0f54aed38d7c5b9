/**
 * The bench's own MariaDB adapters (library and raw) in ONE process, interleaved (each goes first in
 * every other round): per log read of LOG events in pages of 1,000, and per load of a 10,000-event
 * stream, this process's CPU, the server's CPU (all of mariadbd's threads, /proc/<pid>/stat, shared
 * server) and wall time; medians of the rounds. Not a test, not part of `pnpm bench`.
 *
 * `single`: per one-event append to a new stream (SINGLE appends a round, one at a time), in µs.
 *
 *     cd tools/bench && npx tsx probes/mysql-ab.ts log|load|single [rounds]   (LOG=50000, SINGLE=300)
 */
import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { serverUrl } from '@es/servers';
import type { BenchAdapter, EventSpec } from '../src/adapter.js';
import { libraryMysql } from '../src/adapters/library-mysql.js';
import { rawMysql } from '../src/adapters/raw-mysql.js';

const url = serverUrl('mysql');
const pid = Number(execSync('pgrep -x mariadbd || pgrep -x mysqld').toString().split('\n')[0]);
const what = process.argv[2] ?? 'log';
const rounds = Number(process.argv[3] ?? 7);
const LOG = Number(process.env.LOG ?? 50_000);
const SINGLE = Number(process.env.SINGLE ?? 300);

function serverUs(): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
const specs = (n: number, from: number): EventSpec[] =>
  Array.from({ length: n }, (_, i) => ({ created: from + i === 0, value: `v${from + i}:${randomUUID()}` }));

async function fill(adapter: BenchAdapter<any>, stream?: string) {
  if (stream !== undefined) {
    for (let v = 0; v < 10_000; v += 100) await adapter.append(stream, v, adapter.prepare(specs(100, v)));
  } else {
    for (let k = 0; k < LOG; k += 100) await adapter.append(randomUUID(), 0, adapter.prepare(specs(100, 0)));
  }
}

const all: [string, BenchAdapter<any>][] = [
  ['library', libraryMysql(url)],
  ['raw', rawMysql(url)],
];
// ONLY=library (or raw): one side alone, e.g. under node --cpu-prof.
const adapters = all.filter(([name]) => process.env.ONLY === undefined || name === process.env.ONLY);
const stream = randomUUID();
for (const [, a] of adapters) {
  await a.open();
  if (what !== 'single') await fill(a, what === 'load' ? stream : undefined);
}
const singles = async (a: BenchAdapter<any>) => {
  // Rows made before the clock, as the bench's single scenario does.
  const rows = Array.from({ length: SINGLE }, () => a.prepare(specs(1, 0)));
  const streams = Array.from({ length: SINGLE }, () => randomUUID());
  const c0 = process.cpuUsage();
  for (let i = 0; i < SINGLE; i++) await a.append(streams[i]!, 0, rows[i]!);
  return process.cpuUsage(c0);
};
const run = (a: BenchAdapter<any>) =>
  what === 'load' ? a.load(stream, false) : what === 'single' ? singles(a) : a.readLog(LOG, 1000);
for (const [, a] of adapters) await run(a);
const samples = new Map<string, { cpu: number[]; server: number[]; wall: number[] }>();
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? adapters : [...adapters].reverse();
  for (const [name, a] of order) {
    // Per load; per append for single (in µs: the figures below are then µs, not ms).
    const reps = what === 'load' ? 5 : 1;
    const per = what === 'single' ? SINGLE / 1000 : reps;
    const c0 = process.cpuUsage();
    const s0 = serverUs();
    const w0 = performance.now();
    for (let i = 0; i < reps; i++) await run(a);
    const w = (performance.now() - w0) / per;
    const s = (serverUs() - s0) / 1000 / per;
    const c = process.cpuUsage(c0);
    const entry = samples.get(name) ?? { cpu: [], server: [], wall: [] };
    entry.cpu.push((c.user + c.system) / 1000 / per);
    entry.server.push(s);
    entry.wall.push(w);
    samples.set(name, entry);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `${what}, ${rounds} rounds, load ${load}: ${what === 'single' ? 'µs per append' : `ms per ${what === 'load' ? 'load' : `read of ${LOG}`}`}, median (min)`,
);
for (const [name, e] of samples) {
  const f = (xs: number[]) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)})`;
  console.log(`${name.padEnd(8)} client CPU ${f(e.cpu)}  server CPU ${f(e.server)}  wall ${f(e.wall)}`);
}
for (const [, a] of adapters) await a.close();
