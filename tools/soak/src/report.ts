import type { SoakReport } from './soak.js';

/** One block per backend: throughput, errors by type, faults, and what was lost. */
export function formatReport(report: SoakReport): string {
  const per = (n: number) => `${n} (${Math.round(n / Math.max(report.seconds, 0.001))}/s)`;
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${n}`)
      .join(', ') || 'none';
  const log = report.log
    ? `missing ${report.log.missing}, twice ${report.log.duplicates}, out of order ${report.log.outOfOrder}, missed by followers ${report.log.followersMissed}`
    : 'no notification log on this backend (reads check every acknowledged item instead)';
  return [
    `${report.backend}: ${report.seconds} s`,
    `  appends acknowledged ${per(report.appends)}, items ${per(report.itemsAcknowledged)}, reads ${per(report.reads)}, notifications followed ${per(report.notificationsFollowed)}`,
    `  faults injected: ${list(report.faults)}; longest recovery ${report.maxRecoveryMs} ms`,
    `  errors by type: ${list(report.errors)}; untyped ${report.untyped}`,
    `  unknown outcomes: ${report.unknownOutcomes.applied} applied, ${report.unknownOutcomes.notApplied} not applied`,
    `  LOST ${report.lost}; reads missing an acknowledged item ${report.readMisses}; sequences with gaps ${report.gaps}`,
    `  log: ${log}`,
  ].join('\n');
}
