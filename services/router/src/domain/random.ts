/** Randomness is injected so every policy that samples is reproducible in a test or a bench. */
export interface Random {
  /** A uniform number in [0, 1). */
  next(): number;
}

/** mulberry32: tiny, fast, good enough for load-balancing samples; not for secrets. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** An integer in [0, bound). */
export function randomIndex(random: Random, bound: number): number {
  return Math.min(bound - 1, Math.floor(random.next() * bound));
}
