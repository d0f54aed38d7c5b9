import { TopicRegistry, VersionedEntityEvent } from '@es/core';

/** The following suites' events, in a registry of their own. */
export const followingTopics = new TopicRegistry();
export class Ticked extends VersionedEntityEvent.withPayload<
  { writer: number },
  typeof VersionedEntityEvent
>() {}
export class Tocked extends VersionedEntityEvent.withPayload<
  { writer: number },
  typeof VersionedEntityEvent
>() {}
/** A score to add up: what the projection suite's read model keeps per stream. */
export class Scored extends VersionedEntityEvent.withPayload<
  { points: number },
  typeof VersionedEntityEvent
>() {}
export const TICKED = 'es-testing.following.Ticked';
export const TOCKED = 'es-testing.following.Tocked';
export const SCORED = 'es-testing.following.Scored';
followingTopics.register(TICKED, Ticked);
followingTopics.register(TOCKED, Tocked);
followingTopics.register(SCORED, Scored);
