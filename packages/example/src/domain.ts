import {
  type EventPublisher,
  TimestampedVersionedEntity,
  VersionedEntityEvent,
  registerEntity,
} from '@es/core';

/**
 * The seed's example entity: versioned, timestamped, with one attribute `foo` (and `a`, `b`) whose
 * setter records an AttributeChanged event.
 */
export class Example extends TimestampedVersionedEntity<{ foo: string; a: string; b: string }> {
  get foo(): string {
    return this.getAttribute('foo');
  }
  set foo(value: string) {
    this.changeAttribute('foo', value);
  }

  get a(): string {
    return this.getAttribute('a');
  }
  set a(value: string) {
    this.changeAttribute('a', value);
  }

  get b(): string {
    return this.getAttribute('b');
  }
  set b(value: string) {
    this.changeAttribute('b', value);
  }
}
// The class and its events (example.Example.Created, .AttributeChanged, .Discarded), in one call.
registerEntity('example.Example', Example);

/**
 * The seed's factory: records Example.Created, builds the entity from it, publishes it (to the class's
 * publisher, the process-wide default, unless an application passes its own).
 */
export function createNewExample(
  fields: { foo?: string; a?: string; b?: string } = {},
  publisher?: EventPublisher,
): Example {
  return Example.create(
    { foo: fields.foo ?? '', a: fields.a ?? '', b: fields.b ?? '' },
    publisher === undefined ? {} : { publisher },
  );
}

export { VersionedEntityEvent };
