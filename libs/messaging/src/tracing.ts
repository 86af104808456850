// OpenTelemetry messaging semantic conventions, written out because the semconv package is not a
// dependency of this library and these few names are stable.
import { trace, type Tracer } from '@opentelemetry/api';

export const messagingTracer = (): Tracer => trace.getTracer('@spillway/messaging');

export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  clientId: 'messaging.client.id',
  consumerGroup: 'messaging.consumer.group.name',
  partition: 'messaging.destination.partition.id',
  kafkaKey: 'messaging.kafka.message.key',
  kafkaOffset: 'messaging.kafka.offset',
  cloudEventsType: 'cloudevents.event_type',
} as const;

export const producerSpanName = (topic: string): string => `${topic} publish`;
export const consumerSpanName = (topic: string): string => `${topic} process`;
