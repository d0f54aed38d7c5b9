import type { Implementation, ScenarioName } from '../src/adapter.js';
import type { ImplementationReport } from '../src/report.js';
import type { MetricKey } from '../src/scenarios/metrics.js';

/** A report in which each scenario ran and gave these figures (and, for several rounds, these runs). */
export function ran(
  implementation: Implementation,
  scenarios: Partial<Record<ScenarioName, Partial<Record<MetricKey, number>> & { runs?: number[] }>>,
): ImplementationReport {
  return {
    implementation,
    description: `${implementation} as measured`,
    scenarios: Object.fromEntries(
      Object.entries(scenarios).map(([scenario, { runs, ...metrics }]) => [
        scenario,
        {
          status: 'ok',
          result: { scenario: scenario as ScenarioName, metrics, seconds: 1, ...(runs ? { runs } : {}) },
        },
      ]),
    ),
  };
}
