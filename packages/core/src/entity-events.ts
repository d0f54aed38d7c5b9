import { SettingsError } from './errors.js';
import { type DomainEvent, EntityEvent, type EventRole, VersionedEntityEvent } from './events.js';
import { type TopicRegistry, defaultTopics, registerTopic } from './topics.js';

function withRole<C extends abstract new (...args: any[]) => DomainEvent>(cls: C, role: EventRole): C {
  Object.defineProperty(cls, 'role', { value: role, enumerable: false });
  return cls;
}

// The event classes of unversioned entities (sequenced by timestamp).
export class Created extends EntityEvent {}
export class AttributeChanged extends EntityEvent {
  declare readonly name: string;
  declare readonly value: unknown;
}
export class Discarded extends EntityEvent {}
withRole(Created, 'created');
withRole(AttributeChanged, 'attributeChanged');
withRole(Discarded, 'discarded');
registerTopic('es.DomainEntity.Event', EntityEvent);
registerTopic('es.DomainEntity.Created', Created);
registerTopic('es.DomainEntity.AttributeChanged', AttributeChanged);
registerTopic('es.DomainEntity.Discarded', Discarded);

// The event classes of versioned entities (sequenced by version).
export class VersionedCreated extends VersionedEntityEvent {}
export class VersionedAttributeChanged extends VersionedEntityEvent {
  declare readonly name: string;
  declare readonly value: unknown;
}
export class VersionedDiscarded extends VersionedEntityEvent {}
withRole(VersionedCreated, 'created');
withRole(VersionedAttributeChanged, 'attributeChanged');
withRole(VersionedDiscarded, 'discarded');
registerTopic('es.VersionedEntity.Event', VersionedEntityEvent);
registerTopic('es.VersionedEntity.Created', VersionedCreated);
registerTopic('es.VersionedEntity.AttributeChanged', VersionedAttributeChanged);
registerTopic('es.VersionedEntity.Discarded', VersionedDiscarded);

/** The events every entity class has: what `registerEntity` gives each class its own copy of. */
export const FAMILY = ['Created', 'AttributeChanged', 'Discarded'] as const;

type EntityClassWithFamily = (abstract new (...args: any[]) => unknown) & {
  [K in (typeof FAMILY)[number]]: abstract new (...args: any[]) => DomainEvent;
};

/**
 * Registers an entity class and its event family under one prefix, in one call:
 * `registerEntity('shop.Order', Order)` registers `shop.Order` for the class (its snapshots) and
 * `shop.Order.Created`, `shop.Order.AttributeChanged`, `shop.Order.Discarded` for its events. A class
 * that does not declare its own event classes gets subclasses of its parent's, so that each entity's
 * events carry topics of their own and a repository of one class never rebuilds another's entity.
 * Classes it declares itself (to add payload fields, say) are registered as they are.
 */
export function registerEntity<C extends EntityClassWithFamily>(
  prefix: string,
  cls: C,
  registry: TopicRegistry = defaultTopics,
): C {
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new SettingsError('an entity topic prefix must be a non-empty string', 'prefix');
  }
  for (const name of FAMILY) {
    let eventClass = Object.prototype.hasOwnProperty.call(cls, name) ? cls[name] : undefined;
    if (eventClass === undefined) {
      const parent = cls[name];
      // A subclass keeps its parent's role (a static inherited through the constructor chain).
      eventClass = { [name]: class extends parent {} }[name]!;
      Object.defineProperty(cls, name, { value: eventClass, enumerable: false, configurable: true });
    }
    registry.register(`${prefix}.${name}`, eventClass);
  }
  registry.register(prefix, cls);
  return cls;
}
