/**
 * cyrb53: a fast, well-distributed 53-bit string hash, for deterministic choices keyed by an id
 * (the canary split, shadow samples, rendezvous tie-breaks). Not used for prefix blocks: those are
 * hashed over token ids by the function gpu-sim publishes (see prefix-blocks.ts).
 */
export function hash53(text: string, seed = 0): number {
  const low = seed % 0x1_0000_0000;
  const high = Math.floor(seed / 0x1_0000_0000);
  let h1 = 0xdeadbeef ^ low;
  let h2 = 0x41c6ce57 ^ low ^ high;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A uniform number in [0, 1) derived from a key. */
export function unitHash(key: string, seed = 0): number {
  return hash53(key, seed) / 2 ** 53;
}
