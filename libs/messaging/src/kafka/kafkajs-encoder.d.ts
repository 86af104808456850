// kafkajs publishes no types for its internals. This is the slice of its protocol encoder that
// patches/kafkajs+2.2.4.patch changes and kafkajs-encoder.spec.ts checks.
declare module 'kafkajs/src/protocol/encoder.js' {
  class Encoder {
    constructor(initialSize?: number);
    /** The backing buffer; only its first `offset` bytes are written. */
    buf: Buffer;
    offset: number;
    /** The bytes written, as a view of `buf`. */
    readonly buffer: Buffer;
    writeVarIntString(value: string): this;
    writeVarIntBytes(value: Buffer | string | null): this;
  }
  export = Encoder;
}

declare module 'kafkajs/src/protocol/recordBatch/record/v0/index.js' {
  import type Encoder from 'kafkajs/src/protocol/encoder.js';
  function Record(record: {
    offsetDelta?: number;
    timestampDelta?: number;
    key: Buffer | null;
    value: Buffer | null;
    headers?: Record<string, string | Buffer>;
  }): Encoder;
  export = Record;
}

declare module 'kafkajs/src/protocol/recordBatch/v0/index.js' {
  import type Encoder from 'kafkajs/src/protocol/encoder.js';
  export function RecordBatch(batch: {
    firstOffset?: string;
    firstTimestamp?: number;
    maxTimestamp?: number;
    lastOffsetDelta?: number;
    producerId?: string;
    producerEpoch?: number;
    firstSequence?: number;
    records: Encoder[];
  }): Promise<Encoder>;
}
