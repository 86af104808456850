// The ports services depend on. Nothing here names kafkajs, so swapping the client touches only
// src/kafka/.
import type { EncodedEvent, OutgoingEvent } from './cloudevents.js';
import type { Topic } from './topics.js';

/** Sends events that are already encoded (the outbox relay's view of a publisher). */
export interface EncodedEventPublisher {
  /**
   * Resolves once every event is acknowledged by all in-sync replicas. Events with the same topic
   * and key keep their order.
   */
  publishEncoded(events: readonly EncodedEvent[]): Promise<void>;
}

export interface EventPublisher extends EncodedEventPublisher {
  /** Encodes and sends; resolves with what was sent (ids included) once acknowledged. */
  publish<T>(
    topic: Topic<T>,
    events: readonly OutgoingEvent<T>[],
  ): Promise<readonly EncodedEvent[]>;
  close(): Promise<void>;
}

export interface EventMetadata {
  /** `ce_id`: unique per event; the de-duplication key. */
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** `ce_time`, RFC 3339. */
  readonly time: string;
  readonly subject: string;
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Every record header as a string, `ce_*` and trace headers included. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface DeliveredEvent<T> {
  readonly event: T;
  readonly metadata: EventMetadata;
}

/** What a handler can ask of the subscriber while it works on one event. */
export interface HandlerContext {
  /**
   * Tells the group this member is still alive. A handler that can work longer than the session
   * timeout (`ConsumerTuning.sessionTimeoutMs`) calls it as it goes; otherwise the group gives the
   * partition to another member and the event is delivered again. Cheap to call often: at most
   * one heartbeat per heartbeat interval reaches the broker, and concurrent calls share it.
   * Rejects once the group is rebalancing or has dropped this member: let the rejection end the
   * handler, and the event goes to whichever member owns the partition next.
   */
  heartbeat(): Promise<void>;
}

/**
 * Handles one event. The record is acknowledged only after the returned promise resolves; a
 * rejection redelivers it (at-least-once), so handlers must be idempotent or rely on dedup.
 */
export type EventHandler<T> = (
  delivery: DeliveredEvent<T>,
  context: HandlerContext,
) => Promise<void>;

/** Why a record was acknowledged without reaching its handler. */
export type SkipReason = 'missing-attributes' | 'type-mismatch' | 'undecodable';

export interface SubscriberStats {
  readonly delivered: number;
  /** Records whose `ce_id` was already processed: acknowledged, handler not called. */
  readonly duplicates: number;
  readonly skipped: Readonly<Record<SkipReason, number>>;
}

/** Remembers which event ids a consumer group has processed. */
export interface ProcessedEventStore {
  has(eventId: string): Promise<boolean>;
  remember(eventId: string): Promise<void>;
}

export interface SubscriberOptions {
  /** Members of one group share the partitions; each group gets every event. */
  readonly groupId: string;
  /** Where a group with no committed offset starts. Default: only new events. */
  readonly fromBeginning?: boolean;
  /**
   * De-duplication by `ce_id`: the last `lruCapacity` ids (default 10 000; up to twice that are
   * held) in memory always; a durable store (e.g. PostgresProcessedEvents) behind it when given.
   */
  readonly dedup?: { readonly lruCapacity?: number; readonly durable?: ProcessedEventStore };
}

/** One consumer-group member. Register handlers, then start. */
export interface EventSubscriber {
  subscribe<T>(topic: Topic<T>, handler: EventHandler<T>): this;
  /** Resolves once the member has joined its group. */
  start(): Promise<void>;
  /** Finishes the event in hand, commits, leaves the group. Idempotent. */
  stop(): Promise<void>;
  stats(): SubscriberStats;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly config?: Readonly<Record<string, string>>;
}

export interface TopicAdmin {
  /** Creates the topics that do not exist yet and waits for their leaders. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** Deletes topics; names that do not exist are ignored. */
  deleteTopics(names: readonly string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Deletes consumer groups (their committed offsets); unknown groups are ignored. */
  deleteConsumerGroups(groupIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** The entry point a composition root wires: one per process and cluster. */
export interface Messaging {
  connectPublisher(): Promise<EventPublisher>;
  connectTopicAdmin(): Promise<TopicAdmin>;
  createSubscriber(options: SubscriberOptions): EventSubscriber;
}
