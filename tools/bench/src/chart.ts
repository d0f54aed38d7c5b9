/**
 * `pnpm --filter @es/bench chart [results.json] [--out dir]`: the ratios of a `pnpm bench` run as SVG
 * bar charts, one per baseline (@es / raw driver, @es / Emmett), with the issue's target drawn as a line.
 * The figures come from the results file alone (the same medians of per-round ratios the tables show),
 * so a chart can always be made again from a recorded run. Without a path: the newest full run in
 * tools/bench/results.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Implementation } from './adapter.js';
import { speedRatio } from './medians.js';
import type { BackendReport } from './report.js';
import { readResults } from './results-file.js';
import { METRICS, type MetricDefinition } from './scenarios/metrics.js';
import { TARGET_VS_EMMETT, TARGET_VS_RAW } from './table.js';

/** One bar: a backend's scenario and the library's speed ratio to the baseline. */
export interface RatioBar {
  readonly backend: string;
  readonly scenario: string;
  readonly ratio: number;
}

/** The throughput ratios of every backend against `baseline` (latencies and counts have no target). */
export function ratioBars(reports: readonly BackendReport[], baseline: Implementation): RatioBar[] {
  const bars: RatioBar[] = [];
  for (const report of reports) {
    if (report.skipped) continue;
    const of = (i: Implementation) => report.implementations.find((x) => x.implementation === i);
    for (const metric of METRICS.filter((m: MetricDefinition) => m.better === 'higher')) {
      const ratio = speedRatio(of('library'), of(baseline), metric);
      if (ratio === undefined) continue;
      // Short labels: the backend's name and the scenario without its unit.
      const scenario = metric
        .label(report.sizes)
        .trim()
        .replace(/ \([^)]*\)$/, '');
      bars.push({ backend: report.backend, scenario, ratio });
    }
  }
  return bars;
}

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A horizontal bar chart: a row per bar, labelled "backend: scenario", the bar's length its ratio on
 * a linear scale from 0 up to 4 × the target (a longer bar is cut at the edge, its figure still
 * printed), the target a dashed vertical line; bars below the target are drawn in red.
 */
export function barChart(title: string, bars: readonly RatioBar[], target: number): string {
  const row = 22;
  const labelWidth = 430;
  const plotWidth = 420;
  const top = 48;
  const height = top + bars.length * row + 40;
  const max = Math.min(target * 4, Math.max(target * 1.25, ...bars.map((b) => b.ratio)) * 1.05);
  const x = (ratio: number) => labelWidth + (Math.min(ratio, max) / max) * plotWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 70}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escape(title)}</title>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ];
  bars.forEach((bar, i) => {
    const y = top + i * row;
    const below = bar.ratio < target;
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escape(`${bar.backend}: ${bar.scenario}`)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${(x(bar.ratio) - labelWidth).toFixed(1)}" height="${row - 8}" fill="${below ? '#d9534f' : '#4a90d9'}"/>`,
      `<text x="${(x(bar.ratio) + 4).toFixed(1)}" y="${y + 14}">${bar.ratio.toFixed(2)}x</text>`,
    );
  });
  const tx = x(target).toFixed(1);
  parts.push(
    `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${top + bars.length * row}" stroke="#222" stroke-dasharray="5,4"/>`,
    `<text x="${tx}" y="${top + bars.length * row + 16}" text-anchor="middle">target ${target}x</text>`,
    `<line x1="${labelWidth}" y1="${top - 6}" x2="${labelWidth}" y2="${top + bars.length * row}" stroke="#888"/>`,
    '</svg>',
    '',
  );
  return parts.join('\n');
}

/** The newest full (not quick) results file in `dir`. */
export function newestResults(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('-quick.json'))
    .sort();
  if (files.length === 0) throw new Error(`no results of a full run in ${dir}: run pnpm bench first`);
  return join(dir, files[files.length - 1]!);
}

function main(argv: readonly string[]): void {
  const here = fileURLToPath(new URL('..', import.meta.url));
  const outAt = argv.indexOf('--out');
  const out = resolve(outAt >= 0 ? argv[outAt + 1]! : join(here, '../../docs/bench'));
  const given = argv.find((a, i) => !a.startsWith('--') && (outAt < 0 || i !== outAt + 1));
  const path = given ? resolve(given) : newestResults(join(here, 'results'));
  const results = readResults(path);
  mkdirSync(out, { recursive: true });
  const when = `${results.started.slice(0, 10)}, ${results.rounds} round(s)`;
  for (const [baseline, target, name] of [
    ['raw', TARGET_VS_RAW, 'raw driver'],
    ['emmett', TARGET_VS_EMMETT, 'Emmett'],
  ] as const) {
    const file = join(out, `ratios-vs-${baseline}.svg`);
    const bars = ratioBars(results.reports, baseline);
    writeFileSync(file, barChart(`@es / ${name}, speed ratio (${when})`, bars, target));
    process.stdout.write(`${file}: ${bars.length} bars from ${path}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main(process.argv.slice(2));
