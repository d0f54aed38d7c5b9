import type { ZodType } from 'zod';
import { EventSchemaError } from './errors.js';
import { joinFields } from './events.js';

/**
 * Checks an event's payload against its schema; returns the payload with the schema's output merged in
 * (defaults, transforms). A failure is an EventSchemaError naming the topic and the field.
 */
export function checkSchema(
  schema: ZodType,
  payload: Record<string, unknown>,
  topic: string,
  when: 'encode' | 'decode' | 'record',
): Record<string, unknown> {
  const result = schema.safeParse(payload);
  if (result.success) return joinFields(payload, result.data as Record<string, unknown>);
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || undefined;
  throw new EventSchemaError(
    `event data of ${topic} failed its schema on ${when}${field ? ` at "${field}"` : ''}: ${issue?.message ?? 'invalid'}`,
    topic,
    field,
    { cause: result.error },
  );
}
