import { randomUUID } from 'node:crypto';
import type { Topic } from './topics.js';

/** CloudEvents 1.0 Kafka protocol binding, binary mode: attributes travel as `ce_*` headers. */
export const CE = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  subject: 'ce_subject',
} as const;

export const CONTENT_TYPE_HEADER = 'content-type';
export const PROTOBUF_CONTENT_TYPE = 'application/protobuf';
export const CLOUDEVENTS_SPEC_VERSION = '1.0';

/** What a caller hands to `publish` or `enqueueOutbox`. */
export interface OutgoingEvent<T> {
  /** Record key and `ce_subject`: the conversation id, or the shard id on shard topics. */
  readonly key: string;
  readonly event: T;
  /** `ce_id`; a fresh UUID when absent. Give one to make a retried publish de-duplicable. */
  readonly id?: string;
  readonly time?: Date;
}

/**
 * An event ready for the wire: body encoded and CloudEvents attributes fixed. The outbox stores
 * exactly this, so a relayed event is byte-for-byte the event the business transaction wrote.
 */
export interface EncodedEvent {
  readonly topic: string;
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** RFC 3339. */
  readonly time: string;
  readonly key: string;
  readonly data: Uint8Array;
  /**
   * W3C trace context (traceparent, tracestate) of the operation that produced the event. The
   * producer span becomes its child; the header on the wire is the producer span's own context.
   */
  readonly traceContext: Readonly<Record<string, string>>;
}

/** The attributes a consumer read from a record's headers. */
export interface CloudEventAttributes {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly time: string;
  readonly subject: string;
}

export function encodeEvent<T>(
  topic: Topic<T>,
  outgoing: OutgoingEvent<T>,
  source: string,
  traceContext: Readonly<Record<string, string>> = {},
): EncodedEvent {
  return {
    topic: topic.name,
    id: outgoing.id ?? randomUUID(),
    type: topic.codec.type,
    source,
    time: (outgoing.time ?? new Date()).toISOString(),
    key: outgoing.key,
    data: topic.codec.encode(outgoing.event),
    traceContext,
  };
}

/** The `ce_*` and content-type headers of an event; trace headers are added by the producer. */
export function cloudEventHeaders(event: EncodedEvent): Record<string, string> {
  return {
    [CE.specversion]: CLOUDEVENTS_SPEC_VERSION,
    [CE.id]: event.id,
    [CE.type]: event.type,
    [CE.source]: event.source,
    [CE.time]: event.time,
    [CE.subject]: event.key,
    [CONTENT_TYPE_HEADER]: PROTOBUF_CONTENT_TYPE,
  };
}

export type AttributeProblem =
  | { readonly kind: 'missing-attributes'; readonly missing: readonly string[] }
  | { readonly kind: 'type-mismatch'; readonly expected: string; readonly actual: string };

export type ReadAttributesResult =
  | { readonly ok: true; readonly attributes: CloudEventAttributes }
  | { readonly ok: false; readonly problem: AttributeProblem };

/**
 * Reads and checks the attributes of a record that should carry `expectedType`. `ce_subject` may
 * be absent (producers outside Spillway); the record key stands in for it.
 */
export function readCloudEventAttributes(
  headers: Readonly<Record<string, string>>,
  expectedType: string,
  key: string,
): ReadAttributesResult {
  const required = [CE.specversion, CE.id, CE.type, CE.source, CE.time] as const;
  const missing = required.filter((name) => !headers[name]);
  if (missing.length > 0) return { ok: false, problem: { kind: 'missing-attributes', missing } };
  const type = headers[CE.type] ?? '';
  if (type !== expectedType) {
    return { ok: false, problem: { kind: 'type-mismatch', expected: expectedType, actual: type } };
  }
  return {
    ok: true,
    attributes: {
      id: headers[CE.id] ?? '',
      type,
      source: headers[CE.source] ?? '',
      time: headers[CE.time] ?? '',
      subject: headers[CE.subject] ?? key,
    },
  };
}
