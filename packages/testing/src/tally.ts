import { randomUUID } from 'node:crypto';
import { EventPublisher, Snapshot, TimestampedVersionedEntity, TopicRegistry, registerTopic } from '@es/core';

/** The suite's own topics, kept out of the process-wide registry so that no application sees them. */
export const tallyTopics = new TopicRegistry();
tallyTopics.register('es.Snapshot', Snapshot);

/** A small versioned entity for the suite's domain scenarios: a label and a count. */
export class Tally extends TimestampedVersionedEntity {
  /** A publisher of its own: the suite's persistence policies store Tally events and nothing else. */
  static override publisher = new EventPublisher();

  static override readonly Created = registerTopic(
    'es-testing.Tally.Created',
    class Created extends TimestampedVersionedEntity.Created {
      declare readonly label: string;
      declare readonly count: number;
    },
    tallyTopics,
  );
  static override readonly AttributeChanged = registerTopic(
    'es-testing.Tally.AttributeChanged',
    class AttributeChanged extends TimestampedVersionedEntity.AttributeChanged {},
    tallyTopics,
  );
  static override readonly Discarded = registerTopic(
    'es-testing.Tally.Discarded',
    class Discarded extends TimestampedVersionedEntity.Discarded {},
    tallyTopics,
  );

  /** Records Tally.Created, builds the entity from it and publishes it (the seed's factory shape). */
  static start(label: string): Tally {
    const event = new Tally.Created({ originatorId: randomUUID(), originatorVersion: 0, label, count: 0 });
    const tally = Tally.mutate(undefined, event) as Tally;
    Tally.publisher.publish(event);
    return tally;
  }

  get label(): string {
    return this.getAttribute('label') as string;
  }
  set label(value: string) {
    this.changeAttribute('label', value);
  }

  get count(): number {
    return this.getAttribute('count') as number;
  }
  set count(value: number) {
    this.changeAttribute('count', value);
  }
}
registerTopic('es-testing.Tally', Tally, tallyTopics);
