import { ROOT_BLOCK_HASH, chainBlockHash } from './hash.js';

/** A request as the engine sees it: token ids in, a known number of tokens out. */
export interface SequenceSpec {
  readonly id: string;
  readonly promptTokenIds: readonly number[];
  /** Ids of the tokens the request will generate, in order; at least one. */
  readonly outputTokenIds: readonly number[];
  /** Simulated time the request reached the server, ms. */
  readonly arrivalMs: number;
  /** Simulated time the request reaches the engine's queue (arrival + API-server latency), ms. */
  readonly readyAtMs: number;
}

export type SequenceState = 'waiting' | 'running' | 'finished' | 'aborted';

/** One request's progress through the engine: its KV blocks, computed tokens and output. */
export class Sequence {
  state: SequenceState = 'waiting';
  /** Tokens sampled so far. */
  generated = 0;
  /** Tokens whose KV is in the cache (prompt first, then generated tokens). */
  numComputed = 0;
  /** KV blocks, in sequence order. */
  blocks: number[] = [];
  /** Leading blocks already published to the prefix cache. */
  publishedBlocks = 0;
  preemptions = 0;
  /** Whether the prefix cache lookup of its first scheduling has been counted. */
  prefixCounted = false;
  firstScheduledMs: number | undefined;
  firstTokenMs: number | undefined;
  lastTokenMs: number | undefined;

  private readonly hashes: number[] = [];

  constructor(
    readonly spec: SequenceSpec,
    private readonly blockSize: number,
  ) {
    if (spec.outputTokenIds.length < 1)
      throw new RangeError('a sequence must generate at least one token');
  }

  get id(): string {
    return this.spec.id;
  }

  get promptLength(): number {
    return this.spec.promptTokenIds.length;
  }

  get targetOutput(): number {
    return this.spec.outputTokenIds.length;
  }

  /** Prompt plus sampled tokens. */
  get numTokens(): number {
    return this.promptLength + this.generated;
  }

  tokenAt(position: number): number {
    const promptLength = this.promptLength;
    return position < promptLength
      ? (this.spec.promptTokenIds[position] ?? 0)
      : (this.spec.outputTokenIds[position - promptLength] ?? 0);
  }

  /**
   * The chained hash of full block `index` (tokens [index·B, (index+1)·B)); the tokens must exist.
   * Cached: each block is hashed once over the sequence's life.
   */
  blockHash(index: number): number {
    while (this.hashes.length <= index) {
      const b = this.hashes.length;
      const parent = b === 0 ? ROOT_BLOCK_HASH : (this.hashes[b - 1] ?? ROOT_BLOCK_HASH);
      const start = b * this.blockSize;
      const end = start + this.blockSize;
      let hash: number;
      if (end <= this.promptLength) {
        hash = chainBlockHash(parent, this.spec.promptTokenIds, start, end);
      } else {
        const tokens: number[] = [];
        for (let p = start; p < end; p++) tokens.push(this.tokenAt(p));
        hash = chainBlockHash(parent, tokens, 0, tokens.length);
      }
      this.hashes.push(hash);
    }
    return this.hashes[index] ?? 0;
  }
}
