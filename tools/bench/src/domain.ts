import { VersionedEntity, registerTopic } from '@es/core';
import { createTimestamp } from '@es/core/backend';

/**
 * The entity every implementation rebuilds: created with a `value`, then changed many times. The
 * library's version is an ordinary @es entity; the raw driver and Emmett fold the same events by hand.
 */
export class BenchEntity extends VersionedEntity {
  static override readonly Created = registerTopic(
    'bench.BenchEntity.Created',
    class Created extends VersionedEntity.Created {
      declare readonly value: string;
    },
  );
  static override readonly AttributeChanged = registerTopic(
    'bench.BenchEntity.AttributeChanged',
    class AttributeChanged extends VersionedEntity.AttributeChanged {},
  );
  static override readonly Discarded = registerTopic(
    'bench.BenchEntity.Discarded',
    class Discarded extends VersionedEntity.Discarded {},
  );

  get value(): string {
    return this.getAttribute('value') as string;
  }
}
registerTopic('bench.BenchEntity', BenchEntity);

/** The topics the raw baselines store, equal to the library's. */
export const CREATED_TOPIC = 'bench.BenchEntity.Created';
export const CHANGED_TOPIC = 'bench.BenchEntity.AttributeChanged';

/**
 * The JSON body of an event as the library stores it (its fields, then its timestamp): the raw baselines
 * store the very same bytes, serialised before the clock starts.
 */
export function rawEventData(created: boolean, value: string): string {
  return created
    ? JSON.stringify({ value, timestamp: createTimestamp() })
    : JSON.stringify({ name: 'value', value, timestamp: createTimestamp() });
}

/** The state the raw baselines and Emmett fold a stream into, and store as a snapshot. */
export interface FoldedState {
  version: number;
  value: string;
}

export function fold(state: FoldedState, data: { value?: unknown }): FoldedState {
  state.version += 1;
  state.value = data.value as string;
  return state;
}
