import { EventSchemaError } from './errors.js';
import { joinFields } from './events.js';

/**
 * A payload schema: what @es/core needs of a zod schema (`z.object({ amount: z.number() })` is one),
 * named by its shape so that @es/core depends on no schema library, at run time or in its types. Any
 * library whose schemas have zod's `safeParse` fits.
 */
export interface PayloadSchema<T = unknown> {
  safeParse(data: unknown):
    | { readonly success: true; readonly data: T }
    | {
        readonly success: false;
        readonly error: {
          readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
        };
      };
}

/**
 * Checks an event's payload against its schema; returns the payload with the schema's output merged in
 * (defaults, transforms). A failure is an EventSchemaError naming the topic and the field.
 */
export function checkSchema(
  schema: PayloadSchema,
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
