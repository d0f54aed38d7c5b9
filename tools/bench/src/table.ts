/** The report tables: one Markdown table per backend, as `pnpm bench` prints and docs/benchmarks.md shows. */
import type { Implementation, ScenarioName } from './adapter.js';
import { figureOf, speedRatio } from './medians.js';
import type { BackendReport, ImplementationReport } from './report.js';
import { METRICS, type MetricDefinition } from './scenarios/metrics.js';

/** The issue's targets: the library's speed at least this share of the raw driver's, and of Emmett's. */
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
    const batch = figureOf(
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

function ratio(r: number | undefined, metric: MetricDefinition, target: number): string {
  if (r === undefined) return '';
  // Latencies are shown for information; the targets apply to throughputs.
  if (metric.better === 'lower') return `${r.toFixed(2)}x`;
  return `${r.toFixed(2)}x ${r >= target ? '✓' : '✗'}`;
}

export function fmt(v: number, digits: number): string {
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
