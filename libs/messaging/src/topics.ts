import type { events } from '@spillway/contracts';
import { eventCodec, type EventCodec } from './codec.js';

/** A Kafka topic and the one message type every record on it carries. */
export interface Topic<T, N extends string = string> {
  readonly name: N;
  readonly codec: EventCodec<T>;
}

/** Declares a topic; tests use it for private topics (`test.<random>.load`) with a known codec. */
export function defineTopic<T, N extends string>(name: N, codec: EventCodec<T>): Topic<T, N> {
  return { name, codec };
}

/** Every topic in DESIGN.md ("Contracts"). Versioned: a breaking payload change is a new topic. */
export const TOPIC_NAMES = {
  conversationEvents: 'spillway.conversation.events.v1',
  shardLifecycle: 'spillway.shard.lifecycle.v1',
  shardLoad: 'spillway.shard.load.v1',
  scalingDecisions: 'spillway.scaling.decisions.v1',
  requests: 'spillway.requests.v1',
  inferenceJobs: 'spillway.inference.jobs.v1',
  inferenceResults: 'spillway.inference.results.v1',
} as const;

export type TopicName = (typeof TOPIC_NAMES)[keyof typeof TOPIC_NAMES];

type Names = typeof TOPIC_NAMES;

export interface TopicRegistry {
  readonly conversationEvents: Topic<events.ConversationEvent, Names['conversationEvents']>;
  readonly shardLifecycle: Topic<events.ShardLifecycleEvent, Names['shardLifecycle']>;
  readonly shardLoad: Topic<events.ShardLoadReported, Names['shardLoad']>;
  readonly scalingDecisions: Topic<events.ScalingDecided, Names['scalingDecisions']>;
  readonly requests: Topic<events.TurnUsageRecorded, Names['requests']>;
  readonly inferenceJobs: Topic<events.InferenceJobRequested, Names['inferenceJobs']>;
  readonly inferenceResults: Topic<events.InferenceJobCompleted, Names['inferenceResults']>;
}

/**
 * The typed registry. `publisher.publish(topics.shardLoad, [{ key, event }])` only compiles when
 * `event` is a ShardLoadReported.
 */
export const topics: TopicRegistry = {
  /** Keyed by conversation id. */
  conversationEvents: defineTopic(TOPIC_NAMES.conversationEvents, eventCodec('ConversationEvent')),
  /** Keyed by shard id. */
  shardLifecycle: defineTopic(TOPIC_NAMES.shardLifecycle, eventCodec('ShardLifecycleEvent')),
  /** Keyed by shard id. */
  shardLoad: defineTopic(TOPIC_NAMES.shardLoad, eventCodec('ShardLoadReported')),
  /** Keyed by pool. */
  scalingDecisions: defineTopic(TOPIC_NAMES.scalingDecisions, eventCodec('ScalingDecided')),
  /** One usage record per turn, keyed by conversation id. */
  requests: defineTopic(TOPIC_NAMES.requests, eventCodec('TurnUsageRecorded')),
  /** The asynchronous path, keyed by conversation id. */
  inferenceJobs: defineTopic(TOPIC_NAMES.inferenceJobs, eventCodec('InferenceJobRequested')),
  inferenceResults: defineTopic(TOPIC_NAMES.inferenceResults, eventCodec('InferenceJobCompleted')),
};

/** The event type carried by a named topic, e.g. `EventOf<'spillway.shard.load.v1'>`. */
export type EventOf<N extends TopicName> = {
  [K in keyof TopicRegistry]: TopicRegistry[K] extends Topic<infer T, N> ? T : never;
}[keyof TopicRegistry];

export type RegisteredTopic = TopicRegistry[keyof TopicRegistry];

/** Every registered topic, e.g. for `admin.ensureTopics` at start-up. */
export const registeredTopics: readonly RegisteredTopic[] = (
  Object.keys(topics) as (keyof TopicRegistry)[]
).map((key) => topics[key]);

/** Looks a topic up by its wire name (for tools that only have the string). */
export function topicByName<N extends TopicName>(name: N): Topic<EventOf<N>, N> {
  const topic = registeredTopics.find((candidate) => candidate.name === name);
  if (!topic) throw new Error(`Topic ${name} is in TOPIC_NAMES but not in the registry`);
  // The find above matched on the literal name, which determines the event type.
  return topic as unknown as Topic<EventOf<N>, N>;
}
