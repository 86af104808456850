import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { extractTraceContext, injectTraceContext, recordError } from '@spillway/telemetry';
import type { Message, Producer, TopicMessages } from 'kafkajs';
import {
  cloudEventHeaders,
  encodeEvent,
  type EncodedEvent,
  type OutgoingEvent,
} from '../cloudevents.js';
import type { EventPublisher } from '../ports.js';
import type { Topic } from '../topics.js';
import { ATTR, messagingTracer, producerSpanName } from '../tracing.js';

/** acks=all: an acknowledged event survives the loss of the leader. */
const ACKS_ALL = -1;

export class KafkaEventPublisher implements EventPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly source: string,
    private readonly clientId: string,
  ) {}

  async publish<T>(
    topic: Topic<T>,
    events: readonly OutgoingEvent<T>[],
  ): Promise<readonly EncodedEvent[]> {
    const traceContext = injectTraceContext<Record<string, string>>({});
    const encoded = events.map((event) => encodeEvent(topic, event, this.source, traceContext));
    await this.publishEncoded(encoded);
    return encoded;
  }

  async publishEncoded(events: readonly EncodedEvent[]): Promise<void> {
    if (events.length === 0) return;
    // One PRODUCER span per event, not per batch: each event may come from a different trace (the
    // outbox relays many operations at once) and its consumer span must hang under its own.
    const sends = events.map((event) => ({ event, span: this.startSpan(event) }));
    try {
      await this.producer.sendBatch({ acks: ACKS_ALL, topicMessages: groupByTopic(sends) });
      for (const { span } of sends) span.setStatus({ code: SpanStatusCode.OK });
    } catch (error) {
      for (const { span } of sends) recordError(span, error);
      throw error;
    } finally {
      for (const { span } of sends) span.end();
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }

  private startSpan(event: EncodedEvent): Span {
    return messagingTracer().startSpan(
      producerSpanName(event.topic),
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [ATTR.system]: 'kafka',
          [ATTR.destination]: event.topic,
          [ATTR.operationType]: 'send',
          [ATTR.operationName]: 'publish',
          [ATTR.messageId]: event.id,
          [ATTR.kafkaKey]: event.key,
          [ATTR.clientId]: this.clientId,
          [ATTR.cloudEventsType]: event.type,
        },
      },
      extractTraceContext(event.traceContext),
    );
  }
}

interface Send {
  readonly event: EncodedEvent;
  readonly span: Span;
}

/** kafkajs sends one request per broker; order within a topic is the order of `sends`. */
function groupByTopic(sends: readonly Send[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { event, span } of sends) {
    // The producer span's context, not the caller's, goes on the wire: it is the consumer's parent.
    const headers = injectTraceContext(
      cloudEventHeaders(event),
      trace.setSpan(extractTraceContext(event.traceContext), span),
    );
    const value = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength);
    const messages = byTopic.get(event.topic) ?? [];
    messages.push({ key: event.key, value, headers });
    byTopic.set(event.topic, messages);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
