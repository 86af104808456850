import { randomUUID } from 'node:crypto';
import type { events } from '@spillway/contracts';
import {
  createTestDatabase,
  createTestTopics,
  testInfrastructure,
  waitFor,
  type TestDatabase,
  type TestTopics,
} from '@spillway/testing';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import {
  PostgresProcessedEvents,
  defineTopic,
  encodeEvent,
  eventCodec,
  type DeliveredEvent,
  type EventPublisher,
  type EventSubscriber,
  type Messaging,
  type Topic,
} from '../src/index.js';
import { capturingLogger, shardLoadReported, testMessaging } from './fixtures.js';

describe('consuming records that are bad, repeated or fail', () => {
  let kafkaTopics: TestTopics<'load' | 'durable' | 'retry'>;
  let database: TestDatabase;
  let messaging: Messaging;
  let publisher: EventPublisher;
  let subscriber: EventSubscriber;
  // A producer outside Spillway: it sends records with no CloudEvents headers at all.
  let foreignProducer: Producer;
  let load: Topic<events.ShardLoadReported>;
  const logger = capturingLogger();
  const received: DeliveredEvent<events.ShardLoadReported>[] = [];

  beforeAll(async () => {
    [kafkaTopics, database] = await Promise.all([
      createTestTopics({ load: 1, durable: 1, retry: 1 }),
      createTestDatabase(),
    ]);
    load = defineTopic(kafkaTopics.names.load, eventCodec('ShardLoadReported'));
    messaging = testMessaging(logger);
    publisher = await messaging.connectPublisher();
    foreignProducer = new Kafka({
      brokers: testInfrastructure.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await foreignProducer.connect();
    subscriber = messaging
      .createSubscriber({ groupId: kafkaTopics.groupId('robust'), fromBeginning: true })
      .subscribe(load, async (delivery) => {
        received.push(delivery);
      });
    await subscriber.start();
  });

  afterAll(async () => {
    await subscriber?.stop();
    await publisher?.close();
    await foreignProducer?.disconnect();
    await kafkaTopics?.cleanup();
    await database?.cleanup();
  });

  it('skips and counts a record with the wrong ce_type, garbage bytes or no headers, and still delivers the next one', async () => {
    const wrongType = {
      ...encodeEvent(load, { key: 'shard-1', event: shardLoadReported() }, '/spillway/test'),
      type: 'spillway.events.v1.ScalingDecided',
    };
    // Field 1 (shard_id) claims 100 bytes and brings one: not a ShardLoadReported.
    const garbage = {
      ...encodeEvent(load, { key: 'shard-1', event: shardLoadReported() }, '/spillway/test'),
      data: new Uint8Array([0x0a, 0x64, 0x41]),
    };
    await publisher.publishEncoded([wrongType, garbage]);
    await foreignProducer.send({
      topic: load.name,
      messages: [{ key: 'shard-1', value: 'not protobuf, not a CloudEvent' }],
    });
    const good = shardLoadReported({ shardId: 'shard-1' });
    const [sent] = await publisher.publish(load, [{ key: 'shard-1', event: good }]);

    await waitFor(() => received.some((delivery) => delivery.metadata.id === sent!.id), {
      description: 'the good record',
    });
    expect(received).toHaveLength(1);
    expect(received[0]!.event).toEqual(good);
    expect(subscriber.stats().skipped).toEqual({
      'type-mismatch': 1,
      undecodable: 1,
      'missing-attributes': 1,
    });
    const warnings = logger.lines.filter(
      (line) => line.message === 'skipped a record that cannot be handled',
    );
    expect(warnings.map((line) => line.fields.reason)).toEqual([
      'type-mismatch',
      'undecodable',
      'missing-attributes',
    ]);
    expect(warnings[0]!.fields).toMatchObject({ topic: load.name, partition: 0, offset: '0' });
  });

  it('calls the handler once for a ce_id delivered twice', async () => {
    const before = { received: received.length, duplicates: subscriber.stats().duplicates };
    const event = encodeEvent(
      load,
      { key: 'shard-2', event: shardLoadReported({ shardId: 'shard-2' }) },
      '/spillway/test',
    );
    await publisher.publishEncoded([event]);
    await publisher.publishEncoded([event]); // a producer retry after a lost acknowledgement
    const [marker] = await publisher.publish(load, [
      { key: 'shard-2', event: shardLoadReported() },
    ]);

    await waitFor(() => received.some((delivery) => delivery.metadata.id === marker!.id), {
      description: 'the marker after both copies',
    });
    expect(received.filter((delivery) => delivery.metadata.id === event.id)).toHaveLength(1);
    expect(received.length - before.received).toBe(2);
    expect(subscriber.stats().duplicates - before.duplicates).toBe(1);
  });

  it('remembers processed ids in PostgreSQL across a consumer restart', async () => {
    const durableTopic = defineTopic(kafkaTopics.names.durable, eventCodec('ShardLoadReported'));
    const groupId = kafkaTopics.groupId('durable');
    const store = new PostgresProcessedEvents({ pool: database.pool, groupId });
    await store.migrate();
    const handled: string[] = [];
    const member = (): EventSubscriber =>
      messaging
        .createSubscriber({ groupId, fromBeginning: true, dedup: { durable: store } })
        .subscribe(durableTopic, async (delivery) => {
          handled.push(delivery.metadata.id);
        });

    const event = encodeEvent(
      durableTopic,
      { key: 'shard-3', event: shardLoadReported() },
      '/spillway/test',
    );
    const first = member();
    await first.start();
    await publisher.publishEncoded([event]);
    await waitFor(() => handled.length === 1, { description: 'the first delivery' });
    await first.stop();

    // A fresh member has an empty LRU; only the table knows the event was handled.
    const second = member();
    await second.start();
    await publisher.publishEncoded([event]);
    const [marker] = await publisher.publish(durableTopic, [
      { key: 'shard-3', event: shardLoadReported(), id: randomUUID() },
    ]);
    await waitFor(() => handled.includes(marker!.id), {
      description: 'the marker after the re-sent event',
    });
    await second.stop();

    expect(handled).toEqual([event.id, marker!.id]);
    expect(second.stats().duplicates).toBe(1);
    const rows = await database.pool.query(
      `SELECT event_id FROM ${store.table} ORDER BY processed_at`,
    );
    expect(rows.rows.map((row: { event_id: string }) => row.event_id)).toEqual([
      event.id,
      marker!.id,
    ]);
  });

  it('redelivers an event whose handler failed: the offset is committed only after the handler resolves', async () => {
    const retryTopic = defineTopic(kafkaTopics.names.retry, eventCodec('ShardLoadReported'));
    const attempts: string[] = [];
    const flaky = messaging
      .createSubscriber({ groupId: kafkaTopics.groupId('flaky'), fromBeginning: true })
      .subscribe(retryTopic, async (delivery) => {
        attempts.push(delivery.metadata.id);
        if (attempts.length === 1) throw new Error('database briefly unavailable');
      });
    await flaky.start();
    try {
      const [sent] = await publisher.publish(retryTopic, [
        { key: 'shard-4', event: shardLoadReported() },
      ]);
      await waitFor(() => flaky.stats().delivered === 1, {
        description: 'the event after one failed attempt',
      });
      expect(attempts).toEqual([sent!.id, sent!.id]);
    } finally {
      await flaky.stop();
    }
  });
});
