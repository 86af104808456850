import { events } from '@spillway/contracts';

/** How one protobuf message type travels as a Kafka record value. */
export interface EventCodec<T> {
  /** CloudEvents `ce_type`: the full protobuf name, e.g. `spillway.events.v1.ShardLoadReported`. */
  readonly type: string;
  encode(event: T): Uint8Array;
  /** Throws on bytes that are not a valid encoding of T. */
  decode(bytes: Uint8Array): T;
}

/** What ts-proto's `encode` writes into (@bufbuild/protobuf's BinaryWriter). */
export interface ProtobufWriter {
  /** The bytes written so far, as a copy; the writer is then empty and reusable. */
  finish(): Uint8Array;
}

/** The shape ts-proto generates for every message (`MessageFns<T>`). */
export interface ProtobufMessage<T> {
  encode(message: T, writer?: ProtobufWriter): ProtobufWriter;
  decode(bytes: Uint8Array): T;
}

/** A writer whose buffer grew past this is not kept for the next event. */
const REUSED_WRITER_MAX_BYTES = 64 * 1024;

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
  // One writer per codec, reused: a fresh one starts empty and grows (a new buffer and a copy each
  // time) to the event's size, on every event. Encoding is synchronous, so no two encodes share it.
  let writer: ProtobufWriter | undefined;
  return {
    type,
    encode: (event) => {
      const reused = writer;
      writer = undefined; // a throw mid-encode leaves it half-written: never reuse that one
      const used = reused === undefined ? message.encode(event) : message.encode(event, reused);
      const bytes = used.finish();
      if (bytes.byteLength <= REUSED_WRITER_MAX_BYTES) writer = used;
      return bytes;
    },
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
