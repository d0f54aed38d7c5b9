/**
 * The arithmetic of several rounds: which run of a scenario the table shows, and how a ratio between two
 * implementations is taken when each ran several times.
 */
import type { Implementation, ScenarioName } from './adapter.js';
import type { ImplementationReport, ScenarioOutcome } from './report.js';
import { MAIN_METRIC, type MetricDefinition, type ScenarioResult } from './scenarios/metrics.js';
import { SCENARIOS } from './adapter.js';

/**
 * Who runs first in a round: the implementations rotated by the round's number, so that over as many
 * rounds as there are implementations each runs once in every position (a fresh worker running first
 * after another's tables were dropped, or second on a disk still flushing, is not always the same one).
 */
export function turnOrder<T>(implementations: readonly T[], round: number): T[] {
  const n = implementations.length;
  if (n === 0) return [];
  const shift = ((round % n) + n) % n;
  return [...implementations.slice(shift), ...implementations.slice(0, shift)];
}

/** The middle value; for an even count the upper middle one, so that it is a figure that was measured. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * One implementation's reports, one per (round, scenario), merged: per scenario the failure if any
 * round failed, else the median run by the scenario's main figure, with every round's figure in `runs`.
 */
export function mergeRuns(
  implementation: Implementation,
  reports: readonly ImplementationReport[],
): ImplementationReport {
  const scenarios: Partial<Record<ScenarioName, ScenarioOutcome>> = {};
  for (const scenario of SCENARIOS) {
    const outcomes = reports.map((r) => r.scenarios[scenario]).filter((o) => o !== undefined);
    if (outcomes.length === 0) continue;
    const bad = outcomes.find((o) => o.status !== 'ok');
    if (bad) {
      scenarios[scenario] = bad;
      continue;
    }
    const ok = outcomes.map((o) => (o as Extract<ScenarioOutcome, { status: 'ok' }>).result);
    const key = MAIN_METRIC[scenario];
    const figure = (r: ScenarioResult) => r.metrics[key] ?? 0;
    const middle = median(ok.map(figure));
    const chosen = ok.find((r) => figure(r) === middle)!;
    scenarios[scenario] = { status: 'ok', result: { ...chosen, runs: ok.map(figure) } };
  }
  const first = reports[0];
  return {
    implementation,
    ...(first?.description ? { description: first.description } : {}),
    ...(first?.serverVersion ? { serverVersion: first.serverVersion } : {}),
    scenarios,
  };
}

/** A metric's figure in a report, when its scenario ran. */
export function figureOf(
  impl: ImplementationReport | undefined,
  metric: MetricDefinition,
): number | undefined {
  const outcome = impl?.scenarios[metric.scenario];
  return outcome?.status === 'ok' ? outcome.result.metrics[metric.key] : undefined;
}

/**
 * The library's speed relative to a baseline: above 1 the library is faster (for a latency, the
 * baseline's over the library's). With several rounds, the median of the per-round ratios of the
 * scenario's main figure: the two ran back to back within a round, so a machine whose load drifts
 * between rounds moves both sides of each ratio together. Undefined when either side has no figure, or
 * the metric is not a speed.
 */
export function speedRatio(
  lib: ImplementationReport | undefined,
  base: ImplementationReport | undefined,
  metric: MetricDefinition,
): number | undefined {
  const a = figureOf(lib, metric);
  const b = figureOf(base, metric);
  if (a === undefined || b === undefined || a === 0 || b === 0 || metric.better === 'none') return undefined;
  const libRuns = runsOf(lib, metric);
  const baseRuns = runsOf(base, metric);
  if (libRuns && baseRuns && libRuns.length === baseRuns.length && libRuns.length > 1) {
    return median(libRuns.map((x, i) => x / baseRuns[i]!));
  }
  return metric.better === 'higher' ? a / b : b / a;
}

/** The per-round figures, when the metric is its scenario's main one (the one the rounds record). */
function runsOf(impl: ImplementationReport | undefined, metric: MetricDefinition): number[] | undefined {
  const outcome = impl?.scenarios[metric.scenario];
  if (outcome?.status !== 'ok' || MAIN_METRIC[metric.scenario] !== metric.key) return undefined;
  return outcome.result.runs;
}
