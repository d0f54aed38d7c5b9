import type { PayloadSchema } from './schemas.js';
import { DataIntegrityError, EventSchemaError, ValidationError } from './errors.js';
import { checkSchema } from './schemas.js';
import type { DomainEvent } from './events.js';
import { ItemShape, SequencedItem, type SequencedItemClass } from './sequenced-item.js';
import { DataCodec, type DataCodecOptions } from './transcoding.js';
import { type TopicRegistry, defaultTopics } from './topics.js';

export interface SequencedItemMapperOptions<I = SequencedItem> extends DataCodecOptions {
  sequencedItemClass?: SequencedItemClass<I>;
  /** The event field that becomes the sequence id. Default `originatorId`. */
  sequenceIdAttrName?: string;
  /** The event field that becomes the position. Default `originatorVersion`. */
  positionAttrName?: string;
  /** Where topics resolve. Default: the process-wide registry the built-in classes register in. */
  topics?: TopicRegistry;
}

type EventClass = {
  schema?: PayloadSchema;
  /** An event family's schema per type (aggregates' events). */
  schemaOf?(type: string): PayloadSchema | undefined;
  prototype: object;
  name: string;
};

/**
 * Bounds on the events a mapper keeps decoded from frozen items. Kept events outlive the read, so they
 * reach the collector's old generation: keeping every one made replaying a 1,000,000-event in-memory
 * stream peak 240 MB above the store and keep 215 MB after it (pnpm bench:memory), where events
 * dropped page by page die young and cost nothing. So at most MAX_DECODED_EVENTS events are kept in all
 * (about 11 MB of small events): every event of the streams an application loads again and again, and
 * a bounded, churning part of one long replay.
 */
export const MAX_DECODED_EVENTS = 50_000;

/** Maps domain events to sequenced items and back. */
export class SequencedItemMapper<I = SequencedItem> {
  readonly sequenceIdAttrName: string;
  readonly positionAttrName: string;
  readonly topics: TopicRegistry;
  private readonly codec: DataCodec;
  private readonly shape: ItemShape<I>;
  /** Whether the codec encrypts, and so needs to know where each item is stored. */
  private readonly bindsPlace: boolean;
  /**
   * Events decoded from frozen items (an in-memory store's), by item: such an item never changes, and
   * an event whose fields are all primitives is wholly immutable once frozen, so the same event object
   * serves every later read of that item without decoding it again. Items that can change (a SQL
   * store's rows, new per read) are never kept. Within the bounds above: past MAX_DECODED_EVENTS the
   * map starts afresh (dropping a whole map costs the collector less than evicting entry by entry).
   */
  private decoded = new WeakMap<object, DomainEvent>();
  private decodedCount = 0;

  constructor(options: SequencedItemMapperOptions<I> = {}) {
    this.shape = new ItemShape(
      options.sequencedItemClass ?? (SequencedItem as unknown as SequencedItemClass<I>),
    );
    this.sequenceIdAttrName = options.sequenceIdAttrName ?? 'originatorId';
    this.positionAttrName = options.positionAttrName ?? 'originatorVersion';
    this.topics = options.topics ?? defaultTopics;
    this.codec = new DataCodec(options);
    this.bindsPlace = options.cipher !== undefined;
  }

  toSequencedItem(event: DomainEvent): I {
    const cls = event.constructor as unknown as EventClass;
    const fields = event as unknown as Record<string, unknown>;
    // An aggregate's event is stored under the aggregate's topic and its type; its class is a family.
    const family = this.topics.familyPrefixOf(event.constructor);
    const type = family === undefined ? undefined : fields.type;
    if (family !== undefined && (typeof type !== 'string' || type.length === 0)) {
      throw new ValidationError(`an event of ${family} has no type`, 'type');
    }
    const topic = family === undefined ? this.topics.topicOf(event.constructor) : `${family}.${type}`;
    const sequenceId = fields[this.sequenceIdAttrName];
    const position = fields[this.positionAttrName];
    if (typeof sequenceId !== 'string') {
      throw new ValidationError(
        `event ${topic} has no string "${this.sequenceIdAttrName}"`,
        this.sequenceIdAttrName,
      );
    }
    if (typeof position !== 'number') {
      throw new ValidationError(
        `event ${topic} has no numeric "${this.positionAttrName}"`,
        this.positionAttrName,
      );
    }
    const payload: Record<string, unknown> = {};
    for (const key of Object.keys(fields)) {
      // An event field named __proto__ could not be set on the event read back without replacing its class.
      if (key === '__proto__')
        throw new ValidationError(`event ${topic} has a field named "__proto__": rename it`, '__proto__');
      if (
        key !== this.sequenceIdAttrName &&
        key !== this.positionAttrName &&
        !(type !== undefined && key === 'type')
      )
        payload[key] = fields[key];
    }
    const schema = type === undefined ? cls.schema : cls.schemaOf?.(type as string);
    if (schema) checkSchema(schema, payload, topic, 'encode');
    return this.shape.fromCanonical(
      new SequencedItem(
        sequenceId,
        position,
        topic,
        // Where it is stored matters only to a cipher (which binds its ciphertext to it).
        this.codec.encode(payload, this.bindsPlace ? { sequenceId, position, topic } : undefined),
      ),
    );
  }

  fromSequencedItem(item: I): DomainEvent {
    const known = this.decoded.get(item as object);
    if (known !== undefined) return known;
    const event = this.decode(item);
    if (Object.isFrozen(item) && typeof item === 'object' && item !== null && hasOnlyPrimitives(event)) {
      if (++this.decodedCount > MAX_DECODED_EVENTS) {
        this.decoded = new WeakMap();
        this.decodedCount = 1;
      }
      this.decoded.set(item, event);
    }
    return event;
  }

  private decode(item: I): DomainEvent {
    const stored = this.shape.toCanonical(item);
    const { sequenceId, position, topic, data } = stored;
    const resolved = this.topics.resolveStored(topic);
    const cls = resolved.cls as unknown as EventClass;
    // The canonical item is where the data is stored (StoredAt): no object made per decode.
    let payload = this.codec.decode(data, stored) as Record<string, unknown>;
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new EventSchemaError(`stored data of ${topic} is not an object`, topic, undefined);
    }
    const schema = resolved.type === undefined ? cls.schema : cls.schemaOf?.(resolved.type);
    if (schema) payload = checkSchema(schema, payload, topic, 'decode');
    // Rebuild the event without running its constructor: a stored event keeps its own timestamp.
    const event = Object.create(cls.prototype) as Record<string, unknown>;
    // A stored "__proto__" key would replace the event's class through Object.assign: refuse it.
    if (Object.prototype.hasOwnProperty.call(payload, '__proto__')) {
      throw new DataIntegrityError(`stored data of ${topic} has a "__proto__" field`);
    }
    Object.assign(event, payload);
    event[this.sequenceIdAttrName] = sequenceId;
    event[this.positionAttrName] = position;
    if (resolved.type !== undefined) event.type = resolved.type;
    return Object.freeze(event) as unknown as DomainEvent;
  }
}

/** True when no field of the event holds an object (a Date, an array, a nested record): nothing to mutate. */
function hasOnlyPrimitives(event: DomainEvent): boolean {
  const fields = event as unknown as Record<PropertyKey, unknown>;
  for (const key of Reflect.ownKeys(fields)) {
    const value = fields[key];
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') return false;
  }
  return true;
}
