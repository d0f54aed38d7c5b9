import { UnknownTopicError } from './errors.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Class = Function;

/**
 * An explicit map between topics (stable names stored with each item) and classes. A topic is only ever
 * looked up here: stored strings are never evaluated or imported.
 */
export class TopicRegistry {
  private readonly classes = new Map<string, Class>();
  private readonly topics = new Map<Class, string>();

  register(topic: string, cls: Class): this {
    if (typeof topic !== 'string' || topic.length === 0)
      throw new UnknownTopicError('a topic must be a non-empty string');
    const existing = this.classes.get(topic);
    if (existing !== undefined && existing !== cls) {
      throw new UnknownTopicError(`topic "${topic}" is already registered to class ${existing.name}`, topic);
    }
    const existingTopic = this.topics.get(cls);
    if (existingTopic !== undefined && existingTopic !== topic) {
      throw new UnknownTopicError(`class ${cls.name} is already registered as "${existingTopic}"`, topic);
    }
    this.classes.set(topic, cls);
    this.topics.set(cls, topic);
    return this;
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
