import { metrics, ROOT_CONTEXT, SpanKind, type Counter } from '@opentelemetry/api';
import { DomainError } from '@spillway/errors';
import { extractTraceContext, withSpan } from '@spillway/telemetry';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import { readCloudEventAttributes, type AttributeProblem } from '../cloudevents.js';
import { LruProcessedEvents, TieredProcessedEvents } from '../dedup/lru-processed-events.js';
import { DeadlineExceeded, withDeadline } from '../failures.js';
import type {
  EventHandler,
  EventMetadata,
  HandlerContext,
  EventSubscriber,
  ProcessedEventStore,
  SkipReason,
  SubscriberOptions,
  SubscriberStats,
} from '../ports.js';
import type { Topic } from '../topics.js';
import { ATTR, consumerSpanName } from '../tracing.js';
import { connectWithin, type KafkaClientSettings } from './kafka-client.js';
import { headersToStrings } from './headers.js';

interface Route {
  readonly type: string;
  /** Decodes the record value (throws on bad bytes) and returns the handler call. */
  prepare(value: Uint8Array, metadata: EventMetadata, context: HandlerContext): () => Promise<void>;
}

interface Instruments {
  readonly delivered: Counter;
  readonly duplicates: Counter;
  readonly skipped: Counter;
}

/**
 * One consumer-group member on kafkajs `eachMessage`. kafkajs resolves a record's offset only after
 * `eachMessage` resolves and commits resolved offsets after each batch, so an offset is committed
 * only once its handler has finished: at-least-once. Records that can never be handled (wrong
 * type, bad bytes, no CloudEvents headers) are counted, logged and acknowledged, so one bad record
 * cannot stall its partition.
 */
export class KafkaEventSubscriber implements EventSubscriber {
  private readonly routes = new Map<string, Route>();
  private readonly processed: ProcessedEventStore;
  private readonly instruments: Instruments;
  private delivered = 0;
  private duplicates = 0;
  private readonly skipped: Record<SkipReason, number> = {
    'missing-attributes': 0,
    'type-mismatch': 0,
    undecodable: 0,
  };
  private state: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';

  constructor(
    private readonly consumer: Consumer,
    private readonly options: SubscriberOptions,
    private readonly client: KafkaClientSettings,
    private readonly joinTimeoutMs: number,
  ) {
    this.processed = new TieredProcessedEvents(
      new LruProcessedEvents(options.dedup?.lruCapacity),
      options.dedup?.durable,
    );
    const meter = metrics.getMeter('@spillway/messaging');
    this.instruments = {
      delivered: meter.createCounter('spillway.messaging.consumer.delivered', {
        description: 'Events handed to a handler that resolved',
      }),
      duplicates: meter.createCounter('spillway.messaging.consumer.duplicates', {
        description:
          'Records acknowledged without calling the handler because their ce_id was processed',
      }),
      skipped: meter.createCounter('spillway.messaging.consumer.skipped', {
        description:
          'Records acknowledged without calling the handler because they cannot be handled',
      }),
    };
  }

  subscribe<T>(topic: Topic<T>, handler: EventHandler<T>): this {
    if (this.state !== 'idle') throw new Error(`subscribe(${topic.name}) after start()`);
    if (this.routes.has(topic.name))
      throw new Error(`${topic.name} already has a handler in ${this.options.groupId}`);
    this.routes.set(topic.name, {
      type: topic.codec.type,
      prepare: (value, metadata, context) => {
        const event = topic.codec.decode(value);
        return () => handler({ event, metadata }, context);
      },
    });
    return this;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle')
      throw new Error(`subscriber ${this.options.groupId} was already started`);
    if (this.routes.size === 0)
      throw new Error(`subscriber ${this.options.groupId} has no handlers`);
    this.state = 'starting';
    await connectWithin(
      this.client,
      () => this.consumer.connect(),
      () => this.consumer.disconnect(),
    );
    let stopListening = (): void => undefined;
    const joined = new Promise<void>((resolve) => {
      stopListening = this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve());
    });
    try {
      await this.consumer.subscribe({
        topics: [...this.routes.keys()],
        fromBeginning: this.options.fromBeginning ?? false,
      });
      await this.consumer.run({ eachMessage: (payload) => this.handle(payload) });
      await withDeadline(joined, this.joinTimeoutMs);
      this.state = 'running';
    } catch (error) {
      await this.stop();
      if (!(error instanceof DeadlineExceeded)) throw error;
      throw new DomainError(
        'DEPENDENCY.UNAVAILABLE',
        `Consumer group ${this.options.groupId} did not join within ${this.joinTimeoutMs} ms (brokers ${this.client.brokers.join(', ')})`,
        { cause: error },
      );
    } finally {
      stopListening();
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    // disconnect() waits for the record in hand, commits resolved offsets and leaves the group, so
    // the partitions move to another member without waiting out the session timeout.
    await this.consumer.disconnect();
  }

  stats(): SubscriberStats {
    return { delivered: this.delivered, duplicates: this.duplicates, skipped: { ...this.skipped } };
  }

  private async handle(payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    const route = this.routes.get(topic);
    if (!route) return;
    const key = message.key?.toString('utf8') ?? '';
    const headers = headersToStrings(message.headers);
    const where = { topic, partition, offset: message.offset, group: this.options.groupId };

    const read = readCloudEventAttributes(headers, route.type, key);
    if (!read.ok) return this.skip(read.problem.kind, where, describeProblem(read.problem));
    const { attributes } = read;

    if (await this.processed.has(attributes.id)) {
      this.duplicates++;
      this.instruments.duplicates.add(1, {
        [ATTR.destination]: topic,
        [ATTR.consumerGroup]: where.group,
      });
      return;
    }

    const metadata: EventMetadata = {
      ...attributes,
      key,
      topic,
      partition,
      offset: message.offset,
      headers,
    };
    let run: () => Promise<void>;
    try {
      if (message.value === null) throw new Error('record has no value');
      // kafkajs's heartbeat skips the request when the last one is under heartbeatInterval old,
      // shares one in flight, and throws on a rebalance after committing the offsets resolved so far.
      run = route.prepare(message.value, metadata, { heartbeat: () => payload.heartbeat() });
    } catch (error) {
      return this.skip(
        'undecodable',
        where,
        error instanceof Error ? error.message : String(error),
      );
    }

    await withSpan(
      consumerSpanName(topic),
      {
        kind: SpanKind.CONSUMER,
        // The producer span is the parent; whatever context kafkajs runs us in is not.
        parent: extractTraceContext(headers, ROOT_CONTEXT),
        tracerName: '@spillway/messaging',
        attributes: {
          [ATTR.system]: 'kafka',
          [ATTR.destination]: topic,
          [ATTR.operationType]: 'process',
          [ATTR.operationName]: 'process',
          [ATTR.consumerGroup]: where.group,
          [ATTR.partition]: String(partition),
          [ATTR.kafkaOffset]: Number(message.offset),
          [ATTR.kafkaKey]: key,
          [ATTR.messageId]: attributes.id,
          [ATTR.cloudEventsType]: attributes.type,
        },
      },
      () => run(),
    );
    await this.processed.remember(attributes.id);
    this.delivered++;
    this.instruments.delivered.add(1, {
      [ATTR.destination]: topic,
      [ATTR.consumerGroup]: where.group,
    });
  }

  private skip(
    reason: SkipReason,
    where: { topic: string; partition: number; offset: string; group: string },
    detail: string,
  ): void {
    this.skipped[reason]++;
    this.instruments.skipped.add(1, {
      [ATTR.destination]: where.topic,
      [ATTR.consumerGroup]: where.group,
      reason,
    });
    this.client.logger.warn('skipped a record that cannot be handled', {
      ...where,
      reason,
      detail,
    });
  }
}

function describeProblem(problem: AttributeProblem): string {
  switch (problem.kind) {
    case 'missing-attributes':
      return `missing CloudEvents headers: ${problem.missing.join(', ')}`;
    case 'type-mismatch':
      return `ce_type ${JSON.stringify(problem.actual)} where ${problem.expected} was expected`;
    default: {
      const unhandled: never = problem;
      return unhandled;
    }
  }
}
