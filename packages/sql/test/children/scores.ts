import { TopicRegistry, VersionedEntityEvent } from '@es/core';
import type { Transaction } from 'kysely';

/** The events of the SIGKILL test, and the one write its projection makes per event. */
export class Scored extends VersionedEntityEvent.withPayload<
  { points: number },
  typeof VersionedEntityEvent
>() {}
export const topics = new TopicRegistry().register('test.kill.Scored', Scored);

/** Adds one event to its stream's row: one statement, an upsert in each dialect's words. */
export async function addScore(
  trx: Transaction<any>,
  dialect: string,
  totals: string,
  event: Scored,
): Promise<void> {
  const row = { stream: event.originatorId, total: event.points, events: 1 };
  const insert = trx.insertInto(totals).values(row);
  const update = (eb: any) => ({
    total: eb(`${totals}.total`, '+', event.points),
    events: eb(`${totals}.events`, '+', 1),
  });
  await (
    dialect === 'mysql'
      ? insert.onDuplicateKeyUpdate(update)
      : insert.onConflict((oc) => oc.column('stream').doUpdateSet(update))
  ).execute();
}
