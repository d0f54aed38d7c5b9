import type { Notification } from '@es/core';
import type { SeedScenarioReport, StoreSummary } from '@es/example';

/** Renders a scenario report as aligned plain text, one line per fact. */
export function formatReport(report: SeedScenarioReport): string[] {
  const lines: string[] = [`Entity ${report.entityId}`, ''];
  const topicWidth = Math.max(...report.steps.flatMap((s) => s.stored.map((i) => i.topic.length)), 0);
  report.steps.forEach((step, n) => {
    lines.push(`${n + 1}. ${step.name.padEnd(8)} ${step.code}`);
    for (const item of step.stored) {
      lines.push(
        `   ${'stored'.padEnd(10)} version ${item.position}  ${item.topic.padEnd(topicWidth)}  ${item.data}`,
      );
    }
    const readBack = step.readBack.found
      ? `foo = ${quote(step.readBack.foo)}, version ${step.readBack.version}`
      : `rejected with ${step.readBack.rejectedWith}`;
    lines.push(`   ${'has(id)'.padEnd(10)} ${step.has}`);
    lines.push(`   ${'get(id)'.padEnd(10)} ${readBack}`);
    if (step.entity.discarded)
      lines.push(`   ${'entity'.padEnd(10)} discarded at version ${step.entity.version}`);
    lines.push('');
  });
  if (report.notifications === undefined) {
    lines.push(
      'Notification log: none (this backend keeps no application-wide log; see docs/guarantees.md).',
    );
  } else {
    lines.push(
      `Notification log: this run added ${report.notifications.length} entries (ids ${idRange(report)}).`,
    );
    const idWidth = Math.max(...report.notifications.map((n) => String(n.id).length), 1);
    for (const n of report.notifications) {
      lines.push(`   id ${String(n.id).padStart(idWidth)}  version ${n.position}  ${n.topic}`);
    }
  }
  return lines;
}

/** What an earlier run left in the store, in one sentence. */
export function formatEarlierRuns(summary: StoreSummary): string {
  if (summary.entities === 0) return 'Earlier runs: none (the store is empty).';
  const log =
    summary.notificationLogSize === undefined
      ? ''
      : `; the notification log has ${plural(summary.notificationLogSize, 'entry', 'entries')}`;
  return `Earlier runs: ${plural(summary.entities, 'entity', 'entities')} found${log}.`;
}

/** The newest entry an earlier run left in the notification log: proof that the data stayed. */
export function formatLastNotification(n: Notification): string {
  return `The last one: id ${n.id}, ${n.topic} of entity ${n.sequenceId} at version ${n.position}.`;
}

export function formatAfter(summary: StoreSummary): string {
  const log =
    summary.notificationLogSize === undefined
      ? ''
      : `; notification log now has ${plural(summary.notificationLogSize, 'entry', 'entries')}`;
  return `The store now holds ${plural(summary.entities, 'entity', 'entities')}${log}.`;
}

function idRange(report: SeedScenarioReport): string {
  const ids = report.notifications?.map((n) => n.id) ?? [];
  return ids.length === 0 ? 'none' : `${ids[0]}..${ids[ids.length - 1]}`;
}

function quote(value: string): string {
  return `'${value}'`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
