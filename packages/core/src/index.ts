/**
 * @es/core: what an application uses. What a backend author needs besides (the ActiveRecordStrategy base
 * class, the validation and ordering helpers) is in `@es/core/backend`.
 * @packageDocumentation
 */
export * from './errors.js';
export { type StoredTopic, TopicRegistry, defaultTopics, registerTopic } from './topics.js';
export {
  DomainEvent,
  type DomainEventFields,
  EntityEvent,
  VersionedEntityEvent,
  type BaseEventFields,
  type EventMetadata,
  type RequiredFieldsOf,
  type TypedEventClass,
  withCausation,
  withPayload,
  EventPublisher,
  type EventHandler,
  type EventPredicate,
  defaultPublisher,
  publish,
  subscribe,
  unsubscribe,
} from './events.js';
export {
  DomainEntity,
  type Attributes,
  type AttributesOf,
  type EntityClass,
  type EntityState,
  type Mutator,
  type ClassMutator,
} from './entity.js';
export { registerEntity } from './entity-events.js';
export {
  VersionedEntity,
  TimestampedEntity,
  TimestampedVersionedEntity,
  AggregateRoot,
} from './versioned.js';
export { isUuid } from './validation.js';
export {
  SequencedItem,
  StoredEvent,
  NotificationItem,
  type SequencedItemClass,
  type Notification,
} from './sequenced-item.js';
export {
  type AggregateRecorder,
  type ApplicationRecorder,
  type ItemQuery,
  type NotificationQuery,
  type PositionKind,
  type SequenceIdKind,
  type SnapshotTail,
  type SnapshotTailQuery,
  type SnapshotTailRecorder,
  hasNotificationLog,
  readsSnapshotsWith,
} from './recorders.js';
export { type ProcessAppends, type ProcessRecorder, type ProjectionRecorder } from './process-recorder.js';
export { InMemoryActiveRecordStrategy } from './in-memory.js';
export {
  type Transcoder,
  JsonTranscoder,
  type JsonTranscoderOptions,
  DEFAULT_MAX_DEPTH,
  AesGcmCipher,
  type AesGcmCipherOptions,
  type StoredAt,
  DataCodec,
  type DataCodecOptions,
} from './transcoding.js';
export { SequencedItemMapper, type SequencedItemMapperOptions } from './mapper.js';
export { EventStore, type EventStoreOptions } from './event-store.js';
export type { PayloadSchema } from './schemas.js';
export { Snapshot, SnapshotStrategy, type SnapshotStrategyOptions, type Snapshottable } from './snapshots.js';
export {
  EventSourcedRepository,
  type EventSourcedRepositoryOptions,
  type EventSourced,
  type EventSourcedClass,
  type HasPendingEvents,
} from './repository.js';
export {
  Aggregate,
  AggregateEvent,
  type AggregateClass,
  type AggregateEventFields,
  type EventMap,
  type EventOf,
  type EventSchemas,
  type EventsOf,
  registerAggregate,
} from './aggregate.js';
export { PersistencePolicy, type PersistencePolicyOptions } from './persistence-policy.js';
export { NotificationLogReader } from './notification-log.js';
export { type Projection, ProjectionRunner, type ProjectionRunnerOptions } from './projection.js';
export { ProcessApplication, type ProcessApplicationOptions, type Upstream } from './process-application.js';
export { System, SystemRunner } from './system.js';
export { Subscription, type SubscribedEvent, type SubscriptionOptions } from './subscription.js';
export {
  Application,
  type ApplicationOptions,
  type NotificationLogOf,
  type OpenApplicationOptions,
} from './application.js';
export {
  type Store,
  type OpenStoreOptions,
  DEFAULT_STORE_URL,
  memoryStore,
  openStore,
  storeUrl,
} from './store.js';
export type { Tracking, TrackingRecorder } from './tracking.js';
