import { SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
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

// Idempotent-producer states only a new producer id gets out of. kafkajs rolls a partition's
// sequence back when a multi-partition produce request fails, even for partitions the broker did
// append (seen when a broker restarts under load), and from then on every send to that partition
// is refused as out of order.
const NEEDS_NEW_PRODUCER_ID = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
]);

export class KafkaEventPublisher implements EventPublisher {
  private renewing: Promise<void> | undefined;

  /**
   * `renew` connects a fresh producer: after a failure that only a new producer id cures, the
   * failed send is still reported (the caller retries it; consumers drop what the broker already
   * had, by ce_id) and the next send goes through the new producer.
   */
  constructor(
    private producer: Producer,
    private readonly source: string,
    private readonly clientId: string,
    private readonly renew?: () => Promise<Producer>,
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
    const parentOf = parentContexts();
    const sends = events.map((event): Send => {
      const parent = parentOf(event.traceContext);
      return { event, parent, span: this.startSpan(event, parent) };
    });
    try {
      await this.producer.sendBatch({ acks: ACKS_ALL, topicMessages: groupByTopic(sends) });
      for (const { span } of sends) span.setStatus({ code: SpanStatusCode.OK });
    } catch (error) {
      for (const { span } of sends) recordError(span, error);
      if (this.renew && needsNewProducerId(error)) await this.renewProducer();
      throw error;
    } finally {
      for (const { span } of sends) span.end();
    }
  }

  async close(): Promise<void> {
    await this.renewing;
    await this.producer.disconnect();
  }

  private renewProducer(): Promise<void> {
    const renew = this.renew;
    if (!renew) return Promise.resolve();
    this.renewing ??= (async () => {
      const previous = this.producer;
      try {
        this.producer = await renew();
        await previous.disconnect().catch(() => undefined);
      } catch {
        // Brokers unreachable right now: keep the old producer; the next failure tries again.
      } finally {
        this.renewing = undefined;
      }
    })();
    return this.renewing;
  }

  private startSpan(event: EncodedEvent, parent: Context): Span {
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
      parent,
    );
  }
}

interface Send {
  readonly event: EncodedEvent;
  /** The context of the operation that produced the event (its trace context, extracted). */
  readonly parent: Context;
  readonly span: Span;
}

/**
 * The parent context of each event of one send, extracted once per distinct trace context: the
 * events of one operation (an append of ten) share theirs, and extraction parses the headers.
 */
function parentContexts(): (traceContext: Readonly<Record<string, string>>) => Context {
  const extracted = new Map<string, Context>();
  return (traceContext) => {
    let key = '';
    for (const [name, value] of Object.entries(traceContext)) key += `${name}\n${value}\n`;
    let parent = extracted.get(key);
    if (parent === undefined) {
      parent = extractTraceContext(traceContext);
      extracted.set(key, parent);
    }
    return parent;
  };
}

/** kafkajs sends one request per broker; order within a topic is the order of `sends`. */
function groupByTopic(sends: readonly Send[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { event, parent, span } of sends) {
    // The producer span's context, not the caller's, goes on the wire: it is the consumer's parent.
    const headers = injectTraceContext(cloudEventHeaders(event), trace.setSpan(parent, span));
    const value = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength);
    const messages = byTopic.get(event.topic) ?? [];
    messages.push({ key: event.key, value, headers });
    byTopic.set(event.topic, messages);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** Whether kafkajs' error (wrapped in retries, aggregates or causes) is one of NEEDS_NEW_PRODUCER_ID. */
function needsNewProducerId(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const { type, cause, originalError, errors } = error as {
    type?: unknown;
    cause?: unknown;
    originalError?: unknown;
    errors?: unknown;
  };
  if (typeof type === 'string' && NEEDS_NEW_PRODUCER_ID.has(type)) return true;
  const inner = [cause, originalError, ...(Array.isArray(errors) ? (errors as unknown[]) : [])];
  return inner.some((next) => needsNewProducerId(next, depth + 1));
}
