import { DuplicateTopicError, UnknownTopicError, ValidationError } from './errors.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Class = Function;

/**
 * An explicit map between topics (stable names stored with each item) and classes. A topic is only ever
 * looked up here: stored strings are never evaluated or imported.
 */
export class TopicRegistry {
  private readonly classes = new Map<string, Class>();
  private readonly topics = new Map<Class, string>();
  /** Event classes whose events are stored as `<prefix>.<type>` (aggregates' events), by prefix. */
  private readonly families = new Map<string, Class>();
  private readonly familyPrefixes = new Map<Class, string>();
  /**
   * The last stored topic resolved by `resolveStored`, and what it resolved to. Each row a database
   * gives has a new topic string, whose hash a Map lookup computes afresh; comparing it with the last
   * one is cheaper, and a stream's events mostly share one topic (pnpm probe codec.ts: 0.10 -> 0.02
   * CPU µs per event). Emptied by every registration, so it never answers what the maps would not.
   */
  private lastStored: StoredTopic | undefined;

  register(topic: string, cls: Class): this {
    checkTopic(topic);
    const existing = this.classes.get(topic);
    if (existing !== undefined && existing !== cls) {
      throw new DuplicateTopicError(
        `topic "${topic}" is already registered to class ${existing.name}: give each class its own topic (a family is registered once, by registerEntity or registerAggregate)`,
        topic,
      );
    }
    const existingTopic = this.topics.get(cls);
    if (existingTopic !== undefined && existingTopic !== topic) {
      throw new DuplicateTopicError(
        `class ${cls.name} is already registered as "${existingTopic}": a class has one topic (its stored events name it)`,
        topic,
      );
    }
    this.classes.set(topic, cls);
    this.topics.set(cls, topic);
    this.lastStored = undefined;
    withFastProperties(cls);
    return this;
  }

  /**
   * Registers an event class whose events carry a `type` and are stored as `<prefix>.<type>`: an
   * aggregate's events (see registerAggregate). A stored topic resolves to the family of its prefix.
   */
  registerFamily(prefix: string, cls: Class): this {
    checkTopic(prefix);
    const existing = this.families.get(prefix);
    if (existing !== undefined && existing !== cls) {
      throw new DuplicateTopicError(
        `topic prefix "${prefix}" is already registered to ${existing.name}: give each entity or aggregate class its own topic`,
        prefix,
      );
    }
    const existingPrefix = this.familyPrefixes.get(cls);
    if (existingPrefix !== undefined && existingPrefix !== prefix) {
      throw new DuplicateTopicError(
        `${cls.name} is already registered under "${existingPrefix}": register a family once`,
        prefix,
      );
    }
    this.families.set(prefix, cls);
    this.familyPrefixes.set(cls, prefix);
    this.lastStored = undefined;
    withFastProperties(cls);
    return this;
  }

  /** The family of a stored topic `<prefix>.<type>`, with the type; undefined when there is none. */
  resolveFamily(topic: string): { cls: Class; type: string } | undefined {
    const dot = topic.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const cls = this.families.get(topic.slice(0, dot));
    return cls === undefined ? undefined : { cls, type: topic.slice(dot + 1) };
  }

  /**
   * The class of a stored topic: the class registered under it, or else the family of its prefix
   * (`type` then says which of the family's events it is). UnknownTopicError when neither.
   */
  resolveStored(topic: string): StoredTopic {
    const last = this.lastStored;
    if (last !== undefined && last.topic === topic) return last;
    const exact = this.classes.get(topic);
    const family = exact === undefined ? this.resolveFamily(topic) : undefined;
    const cls = exact ?? family?.cls ?? this.resolve(topic);
    // Frozen: the caller gets the cached entry itself, which no caller may change for the next one.
    return (this.lastStored = Object.freeze({ topic, cls, type: family?.type }));
  }

  /** The prefix of an event family class, or undefined when it is not one. */
  familyPrefixOf(cls: Class): string | undefined {
    return this.familyPrefixes.get(cls);
  }

  has(topic: string): boolean {
    return this.classes.has(topic);
  }

  resolve(topic: string): Class {
    const cls = this.classes.get(topic);
    if (cls === undefined)
      throw new UnknownTopicError(`unknown topic "${topic}": register its class first`, topic);
    return cls;
  }

  topicOf(cls: Class): string {
    const topic = this.topics.get(cls);
    if (topic === undefined) {
      throw new UnknownTopicError(`class ${cls.name} has no topic: register it with registerTopic()`);
    }
    return topic;
  }
}

/** What a stored topic resolves to (see `TopicRegistry.resolveStored`). */
export interface StoredTopic {
  readonly topic: string;
  readonly cls: Class;
  /** The event's type when `cls` is a family (an aggregate's events), else undefined. */
  readonly type: string | undefined;
}

/**
 * Gives a registered class fast properties again, so that `new` of it is not slowed. Redefining a
 * class's `name` (or `length`) puts the class object in V8's dictionary mode, and on Node 20 `new` of
 * such a class costs about 0.3 µs more (building a bench event: 0.16-0.21 against 0.29-0.42 CPU µs,
 * tools/bench/probes/memory-batch.ts build). esbuild's `keepNames` does it to every class
 * (`static { __name(this, "Deposited") }`), and tsx always sets it: code run with tsx (or bundled with
 * keepNames) paid it on every event built. V8 makes a class fast again when another class extends it,
 * so one throwaway subclass does it; the library's own classes are fast because others extend them, a
 * user's event class is a leaf.
 */
function withFastProperties(cls: Class): void {
  // Only a constructor with an object prototype can be extended (not an arrow or a bound function).
  try {
    const prototype: unknown = cls.prototype;
    if (prototype !== null && typeof prototype === 'object') void class extends (cls as new () => object) {};
  } catch {
    // Not a constructor after all (a generator function, say): nothing to make fast.
  }
}

function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new ValidationError('a topic must be a non-empty string', 'topic');
  }
}

/** The registry used when none is passed: event and entity classes register themselves here. */
export const defaultTopics = new TopicRegistry();

export function registerTopic<C extends Class>(
  topic: string,
  cls: C,
  registry: TopicRegistry = defaultTopics,
): C {
  registry.register(topic, cls);
  return cls;
}
