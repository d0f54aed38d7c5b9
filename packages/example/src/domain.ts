import { TimestampedVersionedEntity, VersionedEntityEvent, registerTopic } from '@es/core';
import { v4 as uuid4 } from 'uuid';

/**
 * The seed's example entity: versioned, timestamped, with one attribute `foo` (and `a`, `b`) whose
 * setter records an AttributeChanged event.
 */
export class Example extends TimestampedVersionedEntity {
  static override readonly Created = registerTopic(
    'example.Example.Created',
    class Created extends TimestampedVersionedEntity.Created {
      declare readonly foo: string;
      declare readonly a: string;
      declare readonly b: string;
    },
  );
  static override readonly AttributeChanged = registerTopic(
    'example.Example.AttributeChanged',
    class AttributeChanged extends TimestampedVersionedEntity.AttributeChanged {},
  );
  static override readonly Discarded = registerTopic(
    'example.Example.Discarded',
    class Discarded extends TimestampedVersionedEntity.Discarded {},
  );

  get foo(): string {
    return this.getAttribute('foo') as string;
  }
  set foo(value: string) {
    this.changeAttribute('foo', value);
  }

  get a(): string {
    return this.getAttribute('a') as string;
  }
  set a(value: string) {
    this.changeAttribute('a', value);
  }

  get b(): string {
    return this.getAttribute('b') as string;
  }
  set b(value: string) {
    this.changeAttribute('b', value);
  }
}
registerTopic('example.Example', Example);

/** The seed's factory: records Example.Created, builds the entity from it, publishes it. */
export function createNewExample(fields: { foo?: string; a?: string; b?: string } = {}): Example {
  const event = new Example.Created({
    originatorId: uuid4(),
    originatorVersion: 0,
    foo: fields.foo ?? '',
    a: fields.a ?? '',
    b: fields.b ?? '',
  });
  const entity = Example.mutate(undefined, event) as Example;
  Example.publisher.publish(event);
  return entity;
}

export { VersionedEntityEvent };
