import type { DomainEvent, System } from '@es/core';

/** What a run of a system left: each application's log, and the notification ids each follower tracked. */
export interface SystemHistory {
  /** Each application's notification log, in id order. */
  readonly logs: Readonly<Record<string, readonly { id: number; event: DomainEvent }[]>>;
  /** The ids recorded under each tracking name (`<follower><-<upstream>`). */
  readonly tracking: Readonly<Record<string, readonly number[]>>;
  /** The commands given: each starts a story (its id is the correlation id and the first cause). */
  readonly commands: readonly string[];
}

/**
 * What a system guarantees, checked against its history; each broken promise is one line of the result.
 * - Every follower tracked every notification of each upstream log once, and none that is not there:
 *   its tracking head is the upstream's head.
 * - Every upstream event the follower reacts to (`reactsTo`) led to exactly one event of the follower,
 *   and the others to none: nothing lost, nothing repeated.
 * - Every event's cause is a command or an event of an application it follows, and its correlation id
 *   is the command its chain of causes leads back to.
 */
export function systemProblems(
  system: System,
  history: SystemHistory,
  reactsTo: (follower: string, upstream: string, event: DomainEvent) => boolean,
): string[] {
  const problems: string[] = [];
  const owner = new Map<string, { app: string; event: DomainEvent }>();
  const consequences = new Map<string, DomainEvent[]>();
  for (const [app, log] of Object.entries(history.logs)) {
    for (const { event } of log) {
      const id = event.eventId ?? '';
      if (owner.has(id)) problems.push(`${app}: event ${id} is stored twice`);
      owner.set(id, { app, event });
      const cause = event.causationId ?? '';
      consequences.set(cause, [...(consequences.get(cause) ?? []), event]);
    }
  }
  for (const follower of system.followers) {
    for (const upstream of system.follows(follower)) {
      const name = `${follower}<-${upstream}`;
      const ids = (history.logs[upstream] ?? []).map((n) => n.id);
      const tracked = [...(history.tracking[name] ?? [])].sort((a, b) => a - b);
      const missing = ids.filter((id) => !tracked.includes(id));
      const extra = tracked.filter((id, i) => !ids.includes(id) || tracked[i - 1] === id);
      if (missing.length > 0) problems.push(`${name}: notifications never tracked: ${missing.join(', ')}`);
      if (extra.length > 0) problems.push(`${name}: tracked but not in the log once: ${extra.join(', ')}`);
      if (tracked.at(-1) !== ids.at(-1))
        problems.push(`${name}: tracked up to ${tracked.at(-1) ?? 0}, the log's head is ${ids.at(-1) ?? 0}`);
      for (const { id, event } of history.logs[upstream] ?? []) {
        const made = (consequences.get(event.eventId ?? '') ?? []).filter(
          (e) => owner.get(e.eventId ?? '')?.app === follower,
        );
        const expected = reactsTo(follower, upstream, event) ? 1 : 0;
        if (made.length !== expected)
          problems.push(`${name}: notification ${id} led to ${made.length} events, expected ${expected}`);
      }
    }
  }
  const commands = new Set(history.commands);
  for (const command of commands)
    if (!consequences.has(command)) problems.push(`command ${command} led to nothing`);
  for (const [app, log] of Object.entries(history.logs)) {
    for (const { id, event } of log) {
      const cause = event.causationId ?? '';
      const from = owner.get(cause)?.app;
      if (!commands.has(cause) && (from === undefined || !system.follows(app).includes(from))) {
        problems.push(`${app} ${id}: its cause ${cause} is neither a command nor an upstream event`);
        continue;
      }
      let root = cause;
      for (let hops = 0; owner.has(root) && hops <= owner.size; hops++)
        root = owner.get(root)!.event.causationId ?? '';
      if (event.correlationId !== root)
        problems.push(`${app} ${id}: correlation id ${event.correlationId}, its causes lead to ${root}`);
    }
  }
  return problems;
}
