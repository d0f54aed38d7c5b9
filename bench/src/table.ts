import type { Implementation, ScenarioName } from './adapter.js';
import { MAIN_METRIC, METRICS, type MetricDefinition, type ScenarioResult, type Sizes } from './scenarios.js';

/** What one implementation produced on one backend. */
export interface ImplementationReport {
  readonly implementation: Implementation;
  /** Present when it ran at all. */
  readonly description?: string;
  readonly serverVersion?: string;
  /** Why it did not run at all (not available on this backend, failed to load or connect). */
  readonly notRun?: string;
  readonly scenarios: Partial<Record<ScenarioName, ScenarioOutcome>>;
}

export type ScenarioOutcome =
  | { readonly status: 'ok'; readonly result: ScenarioResult }
  | { readonly status: 'unsupported'; readonly reason: string }
  | { readonly status: 'failed'; readonly error: string };

export interface BackendReport {
  readonly backend: string;
  readonly title: string;
  readonly skipped?: string;
  /** The sizes this backend ran with. */
  readonly sizes: Sizes;
  readonly implementations: readonly ImplementationReport[];
  /** Absolute target for scenario 2 (100-event batches), events/s. */
  readonly batchTarget?: number;
}

export const TARGET_VS_RAW = 0.8;
export const TARGET_VS_EMMETT = 1.5;

const COLUMN_NAMES: Record<Implementation, string> = { library: '@es', raw: 'raw driver', emmett: 'Emmett' };

/**
 * The figures of one backend as a Markdown table: one row per metric, a column per implementation,
 * and the library's ratio to the raw driver and to Emmett. Ratios are speed ratios: above 1 the
 * library is faster (for latencies, the baseline's latency over the library's); with several rounds,
 * the median of the per-round ratios.
 */
export function formatBackend(report: BackendReport, scenarios: readonly ScenarioName[]): string {
  const { sizes } = report;
  const lines: string[] = [];
  const version = report.implementations.find((i) => i.serverVersion)?.serverVersion;
  lines.push(`### ${report.title}${version ? ` (${version})` : ''}`, '');
  if (report.skipped) {
    lines.push(`**SKIPPED: ${report.skipped}**`, '');
    return lines.join('\n');
  }
  const byImpl = new Map(report.implementations.map((i) => [i.implementation, i]));
  const lib = byImpl.get('library');
  const raw = byImpl.get('raw');
  const emmett = byImpl.get('emmett');
  const notes = new Map<string, number>();
  const note = (text: string): string => {
    if (!notes.has(text)) notes.set(text, notes.size + 1);
    return `[${notes.get(text)}]`;
  };

  lines.push(
    `| scenario | ${COLUMN_NAMES.library} | ${COLUMN_NAMES.raw} | ${COLUMN_NAMES.emmett} | @es / raw | @es / Emmett |`,
  );
  lines.push('|---|--:|--:|--:|--:|--:|');
  for (const metric of METRICS) {
    if (!scenarios.includes(metric.scenario)) continue;
    const cells = [lib, raw, emmett].map((impl) => cell(impl, metric, note));
    const vsRaw = ratio(speedRatio(lib, raw, metric), metric, TARGET_VS_RAW);
    const vsEmmett = ratio(speedRatio(lib, emmett, metric), metric, TARGET_VS_EMMETT);
    lines.push(`| ${metric.label(sizes)} | ${cells.join(' | ')} | ${vsRaw} | ${vsEmmett} |`);
  }
  lines.push('');
  if (report.batchTarget !== undefined && scenarios.includes('batch')) {
    const batch = value(
      lib,
      METRICS.find((m) => m.key === 'batchEventsPerSecond')!,
    );
    const verdict =
      batch === undefined
        ? 'not measured'
        : `${fmt(batch, 0)} events/s ${batch >= report.batchTarget ? 'MET' : 'MISSED'}`;
    lines.push(`Target: @es 100-event batches at ${fmt(report.batchTarget, 0)}+ events/s: ${verdict}.`, '');
  }
  for (const impl of [lib, raw, emmett]) {
    if (impl?.description) lines.push(`- ${COLUMN_NAMES[impl.implementation]}: ${impl.description}`);
  }
  for (const [text, n] of notes) lines.push(`- [${n}] ${text}`);
  // Every implementation's run is checked the same way; a failed check shows as FAILED above.
  const checks = new Map<ScenarioName, string>();
  for (const impl of [lib, raw, emmett]) {
    for (const outcome of Object.values(impl?.scenarios ?? {})) {
      if (outcome?.status === 'ok' && outcome.result.check && !checks.has(outcome.result.scenario)) {
        checks.set(outcome.result.scenario, outcome.result.check);
      }
    }
  }
  if (checks.size > 0)
    lines.push(`- checked after each run: ${[...checks].map(([s, c]) => `${s}: ${c}`).join('; ')}`);
  lines.push('');
  return lines.join('\n');
}

function value(impl: ImplementationReport | undefined, metric: MetricDefinition): number | undefined {
  const outcome = impl?.scenarios[metric.scenario];
  return outcome?.status === 'ok' ? outcome.result.metrics[metric.key] : undefined;
}

function cell(
  impl: ImplementationReport | undefined,
  metric: MetricDefinition,
  note: (text: string) => string,
): string {
  if (impl === undefined) return '-';
  if (impl.notRun) return `n/a ${note(`${COLUMN_NAMES[impl.implementation]}: ${impl.notRun}`)}`;
  const outcome = impl.scenarios[metric.scenario];
  if (outcome === undefined) return '-';
  if (outcome.status === 'unsupported')
    return `n/a ${note(`${COLUMN_NAMES[impl.implementation]}: ${outcome.reason}`)}`;
  if (outcome.status === 'failed')
    return `FAILED ${note(`${COLUMN_NAMES[impl.implementation]}, ${metric.scenario}: ${outcome.error}`)}`;
  const v = outcome.result.metrics[metric.key];
  if (v === undefined) {
    const why = outcome.result.missing?.[metric.key];
    return why === undefined ? '-' : `n/a ${note(`${COLUMN_NAMES[impl.implementation]}: ${why}`)}`;
  }
  return fmt(v, metric.digits);
}

/**
 * The library's speed relative to a baseline. With several rounds, the median of the per-round ratios of
 * the scenario's main figure: the implementations ran back to back within a round, so a machine whose
 * load drifts between rounds moves both sides of each ratio together.
 */
function speedRatio(
  lib: ImplementationReport | undefined,
  base: ImplementationReport | undefined,
  metric: MetricDefinition,
): number | undefined {
  const a = value(lib, metric);
  const b = value(base, metric);
  if (a === undefined || b === undefined || a === 0 || b === 0 || metric.better === 'none') return undefined;
  const libRuns = runs(lib, metric);
  const baseRuns = runs(base, metric);
  if (libRuns && baseRuns && libRuns.length === baseRuns.length && libRuns.length > 1) {
    const ratios = libRuns.map((x, i) => x / baseRuns[i]!).sort((x, y) => x - y);
    return ratios[Math.floor(ratios.length / 2)];
  }
  return metric.better === 'higher' ? a / b : b / a;
}

/** The per-round figures, when the metric is its scenario's main one (the one the rounds record). */
function runs(impl: ImplementationReport | undefined, metric: MetricDefinition): number[] | undefined {
  const outcome = impl?.scenarios[metric.scenario];
  if (outcome?.status !== 'ok' || MAIN_METRIC[metric.scenario] !== metric.key) return undefined;
  return outcome.result.runs;
}

function ratio(r: number | undefined, metric: MetricDefinition, target: number): string {
  if (r === undefined) return '';
  // Latencies are shown for information; the targets apply to throughputs.
  if (metric.better === 'lower') return `${r.toFixed(2)}x`;
  return `${r.toFixed(2)}x ${r >= target ? '✓' : '✗'}`;
}

export function fmt(v: number, digits: number): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
