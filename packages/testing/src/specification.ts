import { AssertionError, deepStrictEqual } from 'node:assert';
import {
  Aggregate,
  type AggregateClass,
  type AttributesOf,
  type DomainEntity,
  type DomainEvent,
  type EntityClass,
  EventPublisher,
  type EventsOf,
} from '@es/core';
import { roleOf } from '@es/core/backend';

/**
 * given/when/then for aggregates and entities, as Emmett's DeciderSpecification: the history, the
 * command, then the events it records (or the error it throws). Runner-agnostic: a failed expectation
 * throws node:assert's AssertionError, which jest, vitest and node:test all report with a diff; nothing
 * here imports a test runner.
 *
 *     await given(Account, { type: 'Opened', owner: 'Ada' })
 *       .when((account) => account.deposit(5))
 *       .thenEvents([{ type: 'Deposited', amount: 5 }]);
 *
 * Events are compared by type and payload: ids, versions, timestamps and causation metadata are left out.
 */

/** An event as a spec writes it: its type and its payload, one object (`{ type: 'Deposited', amount: 5 }`). */
export type EventSpec<M> = { [K in keyof M & string]: { readonly type: K } & M[K] }[keyof M & string];

/** What every event carries besides its payload: not part of a spec's comparison. */
const METADATA = new Set([
  'originatorId',
  'originatorVersion',
  'timestamp',
  'eventId',
  'correlationId',
  'causationId',
]);

function asSpec(event: DomainEvent, type: string): Record<string, unknown> {
  const spec: Record<string, unknown> = { type };
  for (const [key, value] of Object.entries(event))
    if (!METADATA.has(key) && key !== 'type') spec[key] = value;
  return spec;
}

/** What `thenThrows` checks: an error class, a message pattern, or a predicate. */
export type ErrorExpectation =
  (abstract new (...args: any[]) => Error) | RegExp | ((error: unknown) => boolean);

export interface Outcome<S, E> {
  /** The command recorded exactly these events, in order (none: `[]`). Resolves to the subject. */
  thenEvents(expected: readonly E[]): Promise<S>;
  /** The command threw (or rejected), and the error fits. Resolves to the error. */
  thenThrows(expected?: ErrorExpectation): Promise<unknown>;
  /** The command succeeded; `check` inspects the subject (and may throw its own assertions). */
  thenState(check: (subject: S) => void | Promise<void>): Promise<S>;
}

type Run<S, E> = () => Promise<{ subject: S; events: E[] } | { error: unknown }>;

function outcome<S, E>(run: Run<S, E>): Outcome<S, E> {
  const succeeded = async (what: string) => {
    const result = await run();
    if ('error' in result) {
      throw new AssertionError({
        message: `expected ${what}, but the command threw ${String(result.error)}`,
        actual: result.error,
      });
    }
    return result;
  };
  return {
    async thenEvents(expected) {
      const { subject, events } = await succeeded('events');
      deepStrictEqual(
        events,
        expected.map((e) => ({ ...e })),
        'the events the command recorded',
      );
      return subject;
    },
    async thenThrows(expected) {
      const result = await run();
      if (!('error' in result)) {
        throw new AssertionError({
          message: `expected the command to throw, but it recorded ${JSON.stringify(result.events)}`,
          actual: result.events,
        });
      }
      const { error } = result;
      const fits =
        expected === undefined ||
        (expected instanceof RegExp
          ? expected.test(String((error as Error)?.message ?? error))
          : expected.prototype instanceof Error || expected === Error
            ? error instanceof (expected as abstract new (...args: any[]) => Error)
            : (expected as (error: unknown) => boolean)(error));
      if (!fits) {
        throw new AssertionError({
          message: `the command threw an error that does not fit: ${String(error)}`,
          actual: error,
          expected,
        });
      }
      return error;
    },
    async thenState(check) {
      const { subject } = await succeeded('success');
      await check(subject);
      return subject;
    },
  };
}

async function attempt<T>(command: () => T | Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await command() };
  } catch (error) {
    return { error };
  }
}

/**
 * A spec of an aggregate class. `history` is what happened before (the first event creates it, with
 * `Class.create`); without a history, the command creates the aggregate and returns it:
 * `given(Account).when(() => Account.create('Opened', { owner: 'Ada' }))`.
 */
export function given<A extends Aggregate<any>>(
  cls: AggregateClass<A>,
  ...history: EventSpec<EventsOf<A>>[]
): {
  when(command: (aggregate: A) => void | A | Promise<void | A>): Outcome<A, EventSpec<EventsOf<A>>>;
} {
  return {
    when(command) {
      return outcome(async () => {
        let aggregate: A | undefined;
        if (history.length > 0) {
          const [{ type, ...payload }, ...rest] = history as [{ type: string }, ...{ type: string }[]];
          aggregate = (cls as unknown as { create(t: string, p: object): A }).create(type, payload);
          // The history is replayed through the aggregate's own trigger (protected to its users, not to a spec).
          for (const { type: next, ...fields } of rest)
            (aggregate as unknown as { trigger(t: string, p: object): void }).trigger(next, fields);
          aggregate.collectPendingEvents();
        }
        const result = await attempt(() => command(aggregate as A));
        if ('error' in result) return result;
        const subject = result.value instanceof Aggregate ? (result.value as A) : aggregate;
        if (subject === undefined) {
          throw new AssertionError({
            message: 'with no history, the command must return the aggregate it creates',
          });
        }
        const events = (subject.pendingEvents as unknown as readonly (DomainEvent & { type: string })[]).map(
          (e) => asSpec(e, e.type),
        );
        return { subject, events: events as EventSpec<EventsOf<A>>[] };
      });
    },
  };
}

/** An entity event as a spec writes it: `{ type: 'AttributeChanged', name: 'foo', value: 'bar2' }`. */
export type EntityEventSpec = {
  readonly type: 'Created' | 'AttributeChanged' | 'Discarded';
  readonly [field: string]: unknown;
};

const ROLE_TYPES = {
  created: 'Created',
  attributeChanged: 'AttributeChanged',
  discarded: 'Discarded',
} as const;

/**
 * A spec of one of the seed's entities (attributes with setters that publish events): created from its
 * attributes, then the command, then the events it published.
 *
 *     await givenEntity(Example, { foo: 'bar1' })
 *       .when((example) => { example.foo = 'bar2'; })
 *       .thenEvents([{ type: 'AttributeChanged', name: 'foo', value: 'bar2' }]);
 */
export function givenEntity<T extends DomainEntity<any>>(
  cls: EntityClass<T>,
  attributes: Partial<AttributesOf<T>> = {},
): { when(command: (entity: T) => void | Promise<void>): Outcome<T, EntityEventSpec> } {
  return {
    when(command) {
      return outcome(async () => {
        const published: DomainEvent[] = [];
        const publisher = new EventPublisher();
        publisher.subscribe((events) => published.push(...events));
        const create = (cls as unknown as { create(f: object, o: object): T }).create;
        const entity = create.call(cls, attributes, { publisher });
        published.length = 0;
        const result = await attempt(() => command(entity));
        if ('error' in result) return result;
        const events = published.map((e) =>
          asSpec(e, ROLE_TYPES[roleOf(e) as keyof typeof ROLE_TYPES] ?? e.constructor.name),
        );
        return { subject: entity, events: events as EntityEventSpec[] };
      });
    },
  };
}
