import { SpanKind } from '@opentelemetry/api';
import { startTelemetry, withSpan, type Telemetry } from '@spillway/telemetry';
import { createTestTopics, waitFor, type TestTopics } from '@spillway/testing';
import type { events } from '@spillway/contracts';
import {
  defineTopic,
  eventCodec,
  producerSpanName,
  consumerSpanName,
  type DeliveredEvent,
  type EventPublisher,
  type EventSubscriber,
} from '../src/index.js';
import { capturingLogger, shardLoadReported, testMessaging } from './fixtures.js';

describe('publishing through @spillway/messaging', () => {
  let telemetry: Telemetry;
  let kafkaTopics: TestTopics<'load'>;
  let publisher: EventPublisher;
  const subscribers: EventSubscriber[] = [];
  const groupIds: string[] = [];
  const deliveries: Record<'analytics' | 'autoscaler', DeliveredEvent<events.ShardLoadReported>[]> =
    {
      analytics: [],
      autoscaler: [],
    };

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'test', traceExporter: 'memory' });
    kafkaTopics = await createTestTopics({ load: 3 });
    const messaging = testMessaging(capturingLogger(), '/spillway/shard-metadata');
    const load = defineTopic(kafkaTopics.names.load, eventCodec('ShardLoadReported'));
    publisher = await messaging.connectPublisher();
    for (const group of ['analytics', 'autoscaler'] as const) {
      groupIds.push(kafkaTopics.groupId(group));
      const subscriber = messaging
        .createSubscriber({ groupId: groupIds.at(-1)!, fromBeginning: true })
        .subscribe(load, async (delivery) => {
          deliveries[group].push(delivery);
        });
      subscribers.push(subscriber);
    }
    await Promise.all(subscribers.map((subscriber) => subscriber.start()));
  });

  afterAll(async () => {
    await Promise.all(subscribers.map((subscriber) => subscriber.stop()));
    await publisher?.close();
    await kafkaTopics?.cleanup();
    await telemetry?.shutdown();
  });

  it('delivers a protobuf event to every consumer group with its CloudEvents headers, in one trace', async () => {
    const load = defineTopic(kafkaTopics.names.load, eventCodec('ShardLoadReported'));
    const event = shardLoadReported({ shardId: 'shard-7' });

    const [sent] = await withSpan('report load', {}, () =>
      publisher.publish(load, [{ key: 'shard-7', event }]),
    );

    await waitFor(() => deliveries.analytics.length === 1 && deliveries.autoscaler.length === 1, {
      description: 'the event in both consumer groups',
    });
    for (const [delivery] of [deliveries.analytics, deliveries.autoscaler]) {
      expect(delivery!.event).toEqual(event);
      expect(delivery!.metadata).toMatchObject({
        id: sent!.id,
        type: 'spillway.events.v1.ShardLoadReported',
        source: '/spillway/shard-metadata',
        subject: 'shard-7',
        key: 'shard-7',
        topic: load.name,
      });
      const headers = delivery!.metadata.headers;
      expect(headers.ce_specversion).toBe('1.0');
      expect(headers.ce_id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(headers.ce_id).toBe(sent!.id);
      expect(headers.ce_type).toBe('spillway.events.v1.ShardLoadReported');
      expect(headers.ce_source).toBe('/spillway/shard-metadata');
      expect(headers.ce_subject).toBe('shard-7');
      expect(headers.ce_time).toMatch(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
      );
      expect(headers['content-type']).toBe('application/protobuf');
      expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    // Both groups got the same record: same partition and offset.
    expect(deliveries.analytics[0]!.metadata.offset).toBe(
      deliveries.autoscaler[0]!.metadata.offset,
    );

    const spans = await waitFor(
      () => {
        const finished = telemetry.memoryExporter!.getFinishedSpans();
        const consumers = finished.filter((span) => span.name === consumerSpanName(load.name));
        return consumers.length === 2 ? finished : undefined;
      },
      { description: 'two finished consumer spans' },
    );
    const operation = spans.find((span) => span.name === 'report load')!;
    const producer = spans.find((span) => span.name === producerSpanName(load.name))!;
    const consumers = spans.filter((span) => span.name === consumerSpanName(load.name));

    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.parentSpanContext?.spanId).toBe(operation.spanContext().spanId);
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': load.name,
      'messaging.message.id': sent!.id,
    });
    const traceId = producer.spanContext().traceId;
    expect(deliveries.analytics[0]!.metadata.headers.traceparent).toBe(
      `00-${traceId}-${producer.spanContext().spanId}-01`,
    );
    for (const consumer of consumers) {
      expect(consumer.kind).toBe(SpanKind.CONSUMER);
      expect(consumer.spanContext().traceId).toBe(traceId);
      expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    }
    expect(
      consumers.map((span) => span.attributes['messaging.consumer.group.name']).sort(),
    ).toEqual([...groupIds].sort());
  });
});
