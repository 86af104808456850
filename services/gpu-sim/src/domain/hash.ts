// Small, fast, deterministic integer hashes. Nothing here is cryptographic: the simulator needs
// values that are stable across processes and platforms so that a test, the adapter and the router
// can all recompute the same token ids, block hashes and reply text.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units of a string, as an unsigned 32-bit integer. */
export function fnv1a32(text: string, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Murmur3's 32-bit finaliser: a good avalanche for one integer. */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines two 32-bit values into one well-mixed 32-bit value (order matters). */
export function mix2(a: number, b: number): number {
  return fmix32((Math.imul(a >>> 0, 0x9e3779b1) ^ (b >>> 0)) + 0x7f4a7c15);
}

/**
 * Hash of one KV block, chained on its parent's hash the way vLLM's automatic prefix caching does:
 * equal hashes mean an equal prefix up to and including this block. The result is a 52-bit integer
 * (two independent 26-bit lanes) so that a Map keyed by number stays exact and collisions are
 * negligible for the millions of blocks a trace replay touches.
 */
export function chainBlockHash(
  parentHash: number,
  tokens: ArrayLike<number>,
  start: number,
  end: number,
): number {
  const parentLow = parentHash % 0x4000000;
  const parentHigh = Math.floor(parentHash / 0x4000000);
  let low = fmix32(parentLow ^ 0x3c6ef372);
  let high = fmix32(parentHigh ^ 0xa54ff53a);
  for (let i = start; i < end; i++) {
    const token = (tokens[i] ?? 0) >>> 0;
    low = mix2(low, token);
    high = mix2(high ^ 0x5bd1e995, token);
  }
  return (high & 0x3ffffff) * 0x4000000 + (low & 0x3ffffff);
}

/** The parent hash of a sequence's first block. */
export const ROOT_BLOCK_HASH = 0x1b873593;

/**
 * The chained hashes of every full `blockSize`-token block of `tokens`, as gpu-sim's prefix cache
 * keys them (vLLM's block size is 16). Two prompts share cached KV for exactly their common
 * leading hashes, so a router can score prefix overlap without asking the shard.
 */
export function promptBlockHashes(tokens: ArrayLike<number>, blockSize = 16): number[] {
  const hashes: number[] = [];
  let parent = ROOT_BLOCK_HASH;
  for (let start = 0; start + blockSize <= tokens.length; start += blockSize) {
    parent = chainBlockHash(parent, tokens, start, start + blockSize);
    hashes.push(parent);
  }
  return hashes;
}
