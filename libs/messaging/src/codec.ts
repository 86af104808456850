import { events } from '@spillway/contracts';

/** How one protobuf message type travels as a Kafka record value. */
export interface EventCodec<T> {
  /** CloudEvents `ce_type`: the full protobuf name, e.g. `spillway.events.v1.ShardLoadReported`. */
  readonly type: string;
  encode(event: T): Uint8Array;
  /** Throws on bytes that are not a valid encoding of T. */
  decode(bytes: Uint8Array): T;
}

/** The shape ts-proto generates for every message (`MessageFns<T>`). */
export interface ProtobufMessage<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

type EventNamespace = typeof events;

/** Names of the messages in `spillway.events.v1`, e.g. `'ShardLoadReported'`. */
export type EventMessageName = {
  [K in keyof EventNamespace]: EventNamespace[K] extends ProtobufMessage<infer _T> ? K : never;
}[keyof EventNamespace];

/** The TypeScript type of the named event message. */
export type EventMessage<N extends EventMessageName> =
  EventNamespace[N] extends ProtobufMessage<infer T> ? T : never;

const EVENTS_PACKAGE = 'spillway.events.v1';

export function protobufCodec<T>(type: string, message: ProtobufMessage<T>): EventCodec<T> {
  return {
    type,
    encode: (event) => message.encode(event).finish(),
    decode: (bytes) => message.decode(bytes),
  };
}

/**
 * The codec of a message in `proto/spillway/events/v1`. The `ce_type` is derived from the export
 * name, so it cannot drift from the generated code.
 */
export function eventCodec<N extends EventMessageName>(name: N): EventCodec<EventMessage<N>> {
  // TypeScript cannot relate `events[N]` to the conditional type EventMessage<N>; they are the
  // same message by construction.
  const message = events[name] as unknown as ProtobufMessage<EventMessage<N>>;
  return protobufCodec(`${EVENTS_PACKAGE}.${name}`, message);
}
