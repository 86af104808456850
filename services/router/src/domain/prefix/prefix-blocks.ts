/**
 * Prompt prefix blocks: the prompt's token ids cut into full blocks, each block's hash chaining its
 * parent's, so one hash names the whole prefix up to and including its block (vLLM's automatic
 * prefix caching keys its KV blocks the same way). A trailing partial block is not hashed: engines
 * cache only full blocks.
 *
 * The router's hashes are only useful if they equal what shards report in `recent_prefix_blocks`.
 * Shards compute theirs with gpu-sim's reference tokenizer, chat template and `chainBlockHash`
 * (16-token blocks, `ROOT_BLOCK_HASH`); the router's composition root passes that same function in
 * as `BlockHashing`, so there is one implementation, not two that could drift. The domain stays
 * free of the simulator package.
 *
 * Traces that already carry block ids (Mooncake's `hash_ids`, 512-token blocks) are used as they are.
 */
export const VLLM_BLOCK_TOKENS = 16;
export const MOONCAKE_BLOCK_TOKENS = 512;

/** Hash of tokens[start, end) chained on the parent block's hash. */
export type ChainBlockHash = (
  parentHash: number,
  tokens: ArrayLike<number>,
  start: number,
  end: number,
) => number;

export interface BlockHashing {
  readonly blockTokens: number;
  /** The parent hash of a prompt's first block. */
  readonly rootHash: number;
  readonly chain: ChainBlockHash;
}

/** Chained hashes of every full block of the prompt's token ids, first block first. */
export function prefixBlockHashes(tokens: ArrayLike<number>, hashing: BlockHashing): number[] {
  const size = hashing.blockTokens;
  // A bad block size is a configuration bug, not an expected outcome.
  if (!Number.isInteger(size) || size <= 0) {
    throw new RangeError(`block size must be a positive integer, got ${size}`);
  }
  const hashes: number[] = [];
  let parent = hashing.rootHash;
  for (let start = 0; start + size <= tokens.length; start += size) {
    parent = hashing.chain(parent, tokens, start, start + size);
    hashes.push(parent);
  }
  return hashes;
}

/** Blocks of the prompt's leading prefix that are cached, as tokens. */
export function cachedPrefixTokens(
  matchedBlocks: number,
  promptTokens: number,
  blockTokens: number,
): number {
  return Math.min(promptTokens, Math.max(0, matchedBlocks) * blockTokens);
}
