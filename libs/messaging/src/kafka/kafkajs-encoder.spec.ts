import { afterEach, jest } from '@jest/globals';
import Encoder from 'kafkajs/src/protocol/encoder.js';
import Record from 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
import { RecordBatch } from 'kafkajs/src/protocol/recordBatch/v0/index.js';

// patches/kafkajs+2.2.4.patch (applied by `npm install`'s postinstall) makes kafkajs's protocol
// encoder take its buffers from Buffer.allocUnsafe instead of Buffer.alloc. That is only sound
// while kafkajs never emits a byte it did not write; these tests hold both halves.

const headers = {
  ce_specversion: '1.0',
  ce_id: '0b6f3c1e-5d7a-4c2e-9f1a-2b3c4d5e6f70',
  ce_source: 'spillway/conversation-state',
  ce_type: 'spillway.conversation.UserMessageAppended.v1',
  ce_time: '2026-11-23T16:00:00.000Z',
  ce_subject: 'conversation-1',
  'content-type': 'application/protobuf',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

/** A batch as the producer builds one: keyed records with the CloudEvents headers. */
async function encodedBatch(): Promise<Buffer> {
  const records = [10, 300, 2_000, 9_000].map((size, offsetDelta) =>
    Record({
      offsetDelta,
      timestampDelta: offsetDelta,
      key: Buffer.from(`conversation-${offsetDelta}`),
      // Larger than the encoder's first buffer, so it grows (ensureAvailable) too.
      value: Buffer.alloc(size, offsetDelta + 1),
      headers,
    }),
  );
  const batch = await RecordBatch({
    firstOffset: '0',
    firstTimestamp: 1_795_000_000_000,
    maxTimestamp: 1_795_000_000_003,
    lastOffsetDelta: records.length - 1,
    producerId: '7',
    producerEpoch: 0,
    firstSequence: 42,
    records,
  });
  return Buffer.from(batch.buffer);
}

/** Makes every Buffer.allocUnsafe return memory full of `byte`, as reused memory may be. */
function poisonUnusedMemory(byte: number): void {
  jest
    .spyOn(Buffer, 'allocUnsafe')
    .mockImplementation((size: number) => Buffer.allocUnsafeSlow(size).fill(byte));
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe("kafkajs's protocol encoder (patched)", () => {
  it('takes its buffer from the shared pool, not a zero-filled allocation of its own', () => {
    // Unpatched (Buffer.alloc), a 512-byte buffer is its own 512-byte ArrayBuffer.
    const encoder = new Encoder();
    expect(encoder.buf.length).toBe(512);
    expect(encoder.buf.buffer.byteLength).toBe(Buffer.poolSize);
  });

  it('emits only bytes it wrote: a record batch with headers is the same whatever unused memory held', async () => {
    poisonUnusedMemory(0xab);
    // The poison reaches kafkajs: a fresh encoder's unwritten memory shows it.
    expect(new Encoder().buf.subarray(0, 4)).toEqual(Buffer.from([0xab, 0xab, 0xab, 0xab]));
    const overPoison = await encodedBatch();
    jest.restoreAllMocks();
    poisonUnusedMemory(0x00);
    const overZeros = await encodedBatch();

    expect(overPoison.length).toBeGreaterThan(11_000);
    expect(overPoison.equals(overZeros)).toBe(true);
  });

  it('writes a header as its varint-length key and value, nothing more', () => {
    poisonUnusedMemory(0xab);
    const encoded = new Encoder().writeVarIntString('ce_id').writeVarIntBytes('abc').buffer;
    // Lengths are zigzag varints: 5 → 0x0a, 3 → 0x06.
    expect([...encoded]).toEqual([0x0a, ...Buffer.from('ce_id'), 0x06, ...Buffer.from('abc')]);
  });
});
