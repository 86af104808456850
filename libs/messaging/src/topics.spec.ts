import { events } from '@spillway/contracts';
import { encodeEvent } from './cloudevents.js';
import {
  TOPIC_NAMES,
  defineTopic,
  registeredTopics,
  topicByName,
  topics,
  type EventOf,
} from './topics.js';
import { eventCodec } from './codec.js';
import type { EventPublisher } from './ports.js';

const shardLoad = (shardId: string): events.ShardLoadReported => ({
  shardId,
  pool: 'a100',
  load: undefined,
});

describe('topic registry', () => {
  it('has one typed topic for every topic name in DESIGN.md', () => {
    expect(registeredTopics.map((topic) => topic.name).sort()).toEqual(
      Object.values(TOPIC_NAMES).sort(),
    );
    expect(new Set(registeredTopics.map((topic) => topic.codec.type)).size).toBe(
      registeredTopics.length,
    );
  });

  it('names each ce_type after the full protobuf message name', () => {
    expect(topics.shardLoad.codec.type).toBe('spillway.events.v1.ShardLoadReported');
    expect(topics.conversationEvents.codec.type).toBe('spillway.events.v1.ConversationEvent');
    expect(topics.requests.codec.type).toBe('spillway.events.v1.TurnUsageRecorded');
  });

  it('round-trips an event through its topic codec', () => {
    const bytes = topics.shardLoad.codec.encode(shardLoad('shard-1'));
    expect(topics.shardLoad.codec.decode(bytes)).toEqual(shardLoad('shard-1'));
  });

  it('finds a topic by its wire name with its event type', () => {
    const topic = topicByName('spillway.scaling.decisions.v1');
    const event: EventOf<'spillway.scaling.decisions.v1'> = {
      pool: 'a100',
      currentShards: 2,
      desiredShards: 3,
      algorithm: 'queue-depth',
      reason: 'burst',
      victimShardIds: [],
      decidedAtMs: 1,
    };
    expect(topic.codec.decode(topic.codec.encode(event))).toEqual(event);
  });

  it('lets a test declare a private topic with a known codec', () => {
    const topic = defineTopic('test.abc.load', eventCodec('ShardLoadReported'));
    const encoded = encodeEvent(
      topic,
      { key: 'shard-1', event: shardLoad('shard-1') },
      '/spillway/test',
    );
    expect(encoded).toMatchObject({
      topic: 'test.abc.load',
      type: 'spillway.events.v1.ShardLoadReported',
      key: 'shard-1',
    });
  });

  it('rejects the wrong event type for a topic at compile time', () => {
    // Never called: the assertions are the @ts-expect-error lines, checked by `tsc -p libs/messaging`.
    const typeChecks = (publisher: EventPublisher): void => {
      const decision: events.ScalingDecided = events.ScalingDecided.decode(new Uint8Array());
      // @ts-expect-error a ScalingDecided is not a ShardLoadReported
      void publisher.publish(topics.shardLoad, [{ key: 'shard-1', event: decision }]);
      void publisher.publish(topics.scalingDecisions, [{ key: 'a100', event: decision }]);
    };
    expect(typeChecks).toBeInstanceOf(Function);
  });
});
