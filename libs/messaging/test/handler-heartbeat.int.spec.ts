import type { events } from '@spillway/contracts';
import { createTestTopics, testInfrastructure, waitFor, type TestTopics } from '@spillway/testing';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import {
  defineTopic,
  eventCodec,
  type EventPublisher,
  type EventSubscriber,
  type HandlerContext,
  type Messaging,
  type Topic,
} from '../src/index.js';
import { capturingLogger, shardLoadReported, testMessaging } from './fixtures.js';

// testMessaging's group session lasts 6 s (the broker's minimum) with a 500 ms heartbeat interval;
// the handler below works for about 9 s, one 500 ms step at a time.
const WORK_STEPS = 18;
const STEP_MS = 500;

async function workLongerThanTheSession(betweenSteps: () => Promise<void>): Promise<void> {
  for (let step = 0; step < WORK_STEPS; step++) {
    await new Promise((resolve) => setTimeout(resolve, STEP_MS));
    await betweenSteps();
  }
}

describe('a handler that works longer than the group session timeout', () => {
  let kafkaTopics: TestTopics<'heartbeating' | 'silent'>;
  let messaging: Messaging;
  let publisher: EventPublisher;
  // Reads committed offsets, which the ports do not expose.
  let offsets: Admin;

  beforeAll(async () => {
    kafkaTopics = await createTestTopics({ heartbeating: 1, silent: 1 });
    messaging = testMessaging(capturingLogger());
    publisher = await messaging.connectPublisher();
    offsets = new Kafka({
      brokers: testInfrastructure.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await offsets.connect();
  });

  afterAll(async () => {
    await offsets?.disconnect();
    await publisher?.close();
    await kafkaTopics?.cleanup();
  });

  /** One member working slowly on every event of `topic`; `handled` lists each call's ce_id. */
  async function slowMember(
    topic: Topic<events.ShardLoadReported>,
    groupId: string,
    betweenSteps: (context: HandlerContext) => Promise<void>,
  ): Promise<{ member: EventSubscriber; handled: string[] }> {
    const handled: string[] = [];
    const member = messaging
      .createSubscriber({ groupId, fromBeginning: true })
      .subscribe(topic, async (delivery, context) => {
        handled.push(delivery.metadata.id);
        await workLongerThanTheSession(() => betweenSteps(context));
      });
    await member.start();
    return { member, handled };
  }

  /** The group's committed offset on the topic's one partition; '-1' before the first commit. */
  async function committedOffset(groupId: string, topic: string): Promise<string> {
    const [committed] = await offsets.fetchOffsets({ groupId, topics: [topic] });
    return committed?.partitions[0]?.offset ?? '-1';
  }

  it('keeps its partition while it heartbeats: the event is handled once and committed', async () => {
    const topic = defineTopic(kafkaTopics.names.heartbeating, eventCodec('ShardLoadReported'));
    const groupId = kafkaTopics.groupId('heartbeating');
    const { member, handled } = await slowMember(topic, groupId, (context) => context.heartbeat());
    try {
      const [sent] = await publisher.publish(topic, [
        { key: 'shard-1', event: shardLoadReported() },
      ]);

      // Once the offset past the event is committed it can no longer come back; had the member
      // lost its session, the event would have come back before any commit could succeed.
      await waitFor(async () => (await committedOffset(groupId, topic.name)) === '1', {
        description: 'the commit after the slow event',
        timeoutMs: 30_000,
      });
      expect(handled).toEqual([sent!.id]);
      expect(member.stats()).toMatchObject({ delivered: 1, duplicates: 0 });
    } finally {
      await member.stop();
    }
  });

  it('loses its partition without heartbeats: the event is delivered again', async () => {
    const topic = defineTopic(kafkaTopics.names.silent, eventCodec('ShardLoadReported'));
    const { member, handled } = await slowMember(topic, kafkaTopics.groupId('silent'), () =>
      Promise.resolve(),
    );
    try {
      const [sent] = await publisher.publish(topic, [
        { key: 'shard-1', event: shardLoadReported() },
      ]);

      // The member rejoins and fetches the event again; its de-duplication acknowledges the copy.
      await waitFor(() => member.stats().duplicates >= 1, {
        description: 'the event delivered again after the session expired',
        timeoutMs: 30_000,
      });
      expect(handled).toEqual([sent!.id]);
    } finally {
      await member.stop();
    }
  });
});
