import { Partitioners, type Producer } from 'kafkajs';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../failures.js';
import { jsonLogger, type MessagingLogger } from '../logger.js';
import type {
  EventPublisher,
  EventSubscriber,
  Messaging,
  SubscriberOptions,
  TopicAdmin,
} from '../ports.js';
import {
  connectWithin,
  createKafkaClient,
  retryWithin,
  type KafkaClientSettings,
} from './kafka-client.js';
import { KafkaEventPublisher } from './kafka-publisher.js';
import { KafkaEventSubscriber } from './kafka-subscriber.js';
import { KafkaTopicAdmin } from './kafka-topic-admin.js';

export interface KafkaMessagingOptions {
  /** `host:port` list, e.g. `['127.0.0.1:19092']`. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** `ce_source` of events this process publishes, e.g. `/spillway/router`. */
  readonly source: string;
  /** Bound on connecting (and on each retry loop). Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly logger?: MessagingLogger;
  readonly consumer?: ConsumerTuning;
}

export interface ConsumerTuning {
  /** Default 10 s: a crashed member's partitions move after this long. Broker minimum is 6 s. */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** Longest a fetch waits on an idle partition; bounds stop() latency. Default 250 ms. */
  readonly maxWaitTimeMs?: number;
  /** Bound on start() joining the group. Default 30 s. */
  readonly joinTimeoutMs?: number;
}

export function createKafkaMessaging(options: KafkaMessagingOptions): Messaging {
  if (options.brokers.length === 0)
    throw new Error('createKafkaMessaging: at least one broker is required');
  if (!options.source)
    throw new Error('createKafkaMessaging: source (ce_source) must not be empty');
  const settings: KafkaClientSettings = {
    brokers: options.brokers,
    clientId: options.clientId,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    logger: options.logger ?? jsonLogger(),
  };
  const kafka = createKafkaClient(settings);
  const tuning = options.consumer ?? {};

  return {
    async connectPublisher(): Promise<EventPublisher> {
      const connectProducer = async (): Promise<Producer> => {
        const producer = kafka.producer({
          idempotent: true,
          // kafkajs keeps order under retries for an idempotent producer only with one request in flight.
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          // Java-compatible murmur2, so keys land where producers in other languages put them.
          createPartitioner: Partitioners.DefaultPartitioner,
          retry: retryWithin(settings.connectTimeoutMs),
        });
        await connectWithin(
          settings,
          () => producer.connect(),
          () => producer.disconnect(),
        );
        return producer;
      };
      return new KafkaEventPublisher(
        await connectProducer(),
        options.source,
        options.clientId,
        connectProducer,
      );
    },

    async connectTopicAdmin(): Promise<TopicAdmin> {
      const admin = kafka.admin();
      await connectWithin(
        settings,
        () => admin.connect(),
        () => admin.disconnect(),
      );
      return new KafkaTopicAdmin(admin, settings.logger);
    },

    createSubscriber(subscriberOptions: SubscriberOptions): EventSubscriber {
      const sessionTimeout = tuning.sessionTimeoutMs ?? 10_000;
      const consumer = kafka.consumer({
        groupId: subscriberOptions.groupId,
        sessionTimeout,
        rebalanceTimeout: sessionTimeout,
        heartbeatInterval: tuning.heartbeatIntervalMs ?? Math.min(1_000, sessionTimeout / 3),
        maxWaitTimeInMs: tuning.maxWaitTimeMs ?? 250,
        allowAutoTopicCreation: false,
      });
      return new KafkaEventSubscriber(
        consumer,
        subscriberOptions,
        settings,
        tuning.joinTimeoutMs ?? 30_000,
      );
    },
  };
}
