/**
 * The tables `bench:following` prints: each backend's @es figures beside Emmett's where Emmett has the
 * feature, the ratios against issue 14's target (ahead of Emmett by `target`, 1.5x), and, where Emmett has
 * no equivalent, why. Pure: figures in, Markdown out.
 */
import type { Latency } from './following-measure.js';

export interface EsFollowing {
  /** A Subscription in the appending process, woken by the store's append signal. */
  readonly inProcess: Latency;
  /** The same log read without the signal, as a subscriber in another process reads it. */
  readonly polling: Latency;
  readonly eventsPerSecond: number;
}

export interface EmmettFollowing {
  /** Its consumer with a reactor: Emmett's only follower of the log, which polls in any process. */
  readonly consumer: Latency;
  /** Its consumer with a projector, default pulling (100-event batches, 50 ms between full ones). */
  readonly eventsPerSecond: number;
  /** The same with `pullingFrequencyInMs: 1`: the projection's own cost, without the sleeps. */
  readonly unthrottledEventsPerSecond: number;
}

export interface FollowingRow {
  readonly backend: string;
  readonly es: EsFollowing;
  /** Emmett's figures, or why it has none on this backend. */
  readonly emmett: EmmettFollowing | { readonly missing: string };
}

/** How many times faster ours is: their latency over ours (a latency of 0 counts as 0.05 ms). */
export const latencyRatio = (theirs: number, ours: number): number => theirs / Math.max(ours, 0.05);

/** How many times faster ours is: our throughput over theirs. */
export const throughputRatio = (ours: number, theirs: number): number => ours / theirs;

export function verdict(ratios: readonly number[], target: number): string {
  const lowest = Math.min(...ratios);
  return lowest >= target ? 'met' : `missed (lowest ${ratio(lowest)} < ${target}x)`;
}

const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0));
const pair = (l: Latency) => `${ms(l.p50)} / ${ms(l.p99)}`;
const ratio = (r: number) => `${r < 10 ? r.toFixed(1) : r.toFixed(0)}x`;
const rate = (r: number) => Math.round(r).toLocaleString('en-US');

export function followingTables(rows: readonly FollowingRow[], target: number): string {
  const notes: string[] = [];
  const noteFor = (missing: string) => {
    const at = notes.indexOf(missing);
    if (at >= 0) return at + 1;
    notes.push(missing);
    return notes.length;
  };
  const latency = rows.map((row) => {
    const { es, emmett } = row;
    const ours = `| ${row.backend} | ${pair(es.inProcess)} | ${pair(es.polling)} |`;
    if ('missing' in emmett) return `${ours} none (${noteFor(emmett.missing)}) | | | |`;
    const inProcess = [
      latencyRatio(emmett.consumer.p50, es.inProcess.p50),
      latencyRatio(emmett.consumer.p99, es.inProcess.p99),
    ];
    const polling = [
      latencyRatio(emmett.consumer.p50, es.polling.p50),
      latencyRatio(emmett.consumer.p99, es.polling.p99),
    ];
    return `${ours} ${pair(emmett.consumer)} | ${inProcess.map(ratio).join(' / ')} | ${polling.map(ratio).join(' / ')} | ${verdict([...inProcess, ...polling], target)} |`;
  });
  const throughput = rows.map((row) => {
    const { es, emmett } = row;
    const ours = `| ${row.backend} | ${rate(es.eventsPerSecond)} |`;
    if ('missing' in emmett) return `${ours} none (${noteFor(emmett.missing)}) | | | | |`;
    const byDefault = throughputRatio(es.eventsPerSecond, emmett.eventsPerSecond);
    const unthrottled = throughputRatio(es.eventsPerSecond, emmett.unthrottledEventsPerSecond);
    return `${ours} ${rate(emmett.eventsPerSecond)} | ${ratio(byDefault)} | ${verdict([byDefault], target)} | ${rate(emmett.unthrottledEventsPerSecond)} | ${ratio(unthrottled)} |`;
  });
  return [
    'Append-to-visible latency, p50 / p99 ms (ratios: Emmett over @es)',
    '',
    `| backend | @es in process | @es polling | Emmett consumer | ratio to @es in process | ratio to @es polling | target >= ${target}x |`,
    '|---|---|---|---|---|---|---|',
    ...latency,
    '',
    'Projection catching up into a SQL read model with tracking, events/s (ratios: @es over Emmett)',
    '',
    `| backend | @es | Emmett, default pulling | ratio | target >= ${target}x | Emmett, pullingFrequencyInMs 1 | ratio |`,
    '|---|---|---|---|---|---|---|',
    ...throughput,
    ...(notes.length > 0 ? ['', ...notes.map((note, i) => `(${i + 1}) ${note}`)] : []),
  ].join('\n');
}
