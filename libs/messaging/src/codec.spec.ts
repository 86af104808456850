import { events } from '@spillway/contracts';
import { eventCodec, protobufCodec, type ProtobufMessage, type ProtobufWriter } from './codec.js';

const load = (shardId: string, queued: number): events.ShardLoadReported => ({
  shardId,
  pool: `pool-${queued}`,
  load: undefined,
});

describe('protobuf codec', () => {
  it('gives each event its own bytes while it reuses one writer', () => {
    const codec = eventCodec('ShardLoadReported');
    const first = codec.encode(load('shard-with-a-longer-name-than-the-next', 3));
    const firstCopy = Uint8Array.from(first);
    const second = codec.encode(load('s2', 4));
    // The second encode wrote into the same writer: the first result must not have changed.
    expect(first).toEqual(firstCopy);
    expect(codec.decode(first)).toEqual(load('shard-with-a-longer-name-than-the-next', 3));
    expect(codec.decode(second)).toEqual(load('s2', 4));
    expect(second).toEqual(events.ShardLoadReported.encode(load('s2', 4)).finish());
  });

  it('encodes correctly after an encode that threw half-way', () => {
    const message =
      events.ShardLoadReported as unknown as ProtobufMessage<events.ShardLoadReported>;
    let failNext = false;
    const failing: ProtobufMessage<events.ShardLoadReported> = {
      encode: (value, writer?: ProtobufWriter) => {
        const written = message.encode(value, writer);
        if (failNext) {
          failNext = false;
          throw new Error('field out of range');
        }
        return written;
      },
      decode: (bytes) => message.decode(bytes),
    };
    const codec = protobufCodec('test.ShardLoadReported', failing);
    codec.encode(load('s0', 0));
    failNext = true;
    expect(() => codec.encode(load('s1', 1))).toThrow('field out of range');
    expect(codec.decode(codec.encode(load('s2', 2)))).toEqual(load('s2', 2));
  });
});
