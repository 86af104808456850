/**
 * A compact, read-only set of prefix block hashes (integers up to 2^53): open addressing over one
 * Float64Array at most half full. A Set<number> of hashes above 2^31 boxes every element; this keeps
 * 1,000 shards × 1,024 recent blocks in about 16 MB and answers `has` with a probe or two, which is
 * the prefix match's inner loop.
 *
 * With `sampleEvery` K > 1 it keeps only the hashes on the sample (see `onBlockSample`), about one in
 * K: K times less memory and index upkeep, and matches found to within about K blocks.
 */
export class BlockSet {
  static readonly EMPTY = new BlockSet(new Float64Array(1), 0, false, new Float64Array(0), 1);

  private constructor(
    private readonly slots: Float64Array,
    readonly size: number,
    // 0 marks an empty slot, so a (rare) zero hash is kept aside.
    private readonly hasZero: boolean,
    // The list as reported, so an unchanged report is recognised without rebuilding anything.
    private readonly source: Float64Array,
    readonly sampleEvery: number,
  ) {}

  static of(hashes: ArrayLike<number>, sampleEvery = 1): BlockSet {
    assertSampling(sampleEvery);
    let kept = 0;
    for (let i = 0; i < hashes.length; i++) if (onBlockSample(hashes[i] ?? 0, sampleEvery)) kept++;
    let capacity = 4;
    while (capacity < kept * 2) capacity *= 2;
    const slots = new Float64Array(capacity);
    const mask = capacity - 1;
    let hasZero = false;
    let size = 0;
    for (let i = 0; i < hashes.length; i++) {
      const hash = hashes[i] ?? 0;
      if (!onBlockSample(hash, sampleEvery)) continue;
      if (hash === 0) {
        if (!hasZero) size++;
        hasZero = true;
        continue;
      }
      let index = mixBlockHash(hash) & mask;
      for (;;) {
        const found = slots[index];
        if (found === hash) break;
        if (found === 0) {
          slots[index] = hash;
          size++;
          break;
        }
        index = (index + 1) & mask;
      }
    }
    return new BlockSet(slots, size, hasZero, Float64Array.from(hashes), sampleEvery);
  }

  /** Whether `hashes` is, element for element, the list this set was built from. */
  isBuiltFrom(hashes: ArrayLike<number>): boolean {
    const source = this.source;
    if (source.length !== hashes.length) return false;
    for (let i = 0; i < source.length; i++) if (source[i] !== hashes[i]) return false;
    return true;
  }

  has(hash: number): boolean {
    if (hash === 0) return this.hasZero;
    const slots = this.slots;
    const mask = slots.length - 1;
    let index = mixBlockHash(hash) & mask;
    for (;;) {
      const found = slots[index];
      if (found === hash) return true;
      if (found === 0 || found === undefined) return false;
      index = (index + 1) & mask;
    }
  }

  /** Calls `visit` with every hash, in no particular order. */
  forEach(visit: (hash: number) => void): void {
    if (this.hasZero) visit(0);
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const hash = slots[i] ?? 0;
      if (hash !== 0) visit(hash);
    }
  }

  toArray(): number[] {
    const out: number[] = [];
    this.forEach((hash) => out.push(hash));
    return out;
  }
}

/**
 * Whether a block hash is on the 1-in-`every` sample (`every` a power of two). Content-defined, so
 * a shard and a router agree on it without coordinating, and a prompt's sampled blocks are the same
 * on every shard that served it. A second mix decides, so sampled hashes still spread over a table.
 */
export function onBlockSample(hash: number, every: number): boolean {
  return every === 1 || ((Math.imul(mixBlockHash(hash), 0x27d4eb2d) >>> 22) & (every - 1)) === 0;
}

function assertSampling(every: number): void {
  // A bad sampling rate is a configuration bug, not an expected outcome.
  if (!Number.isInteger(every) || every < 1 || (every & (every - 1)) !== 0 || every > 1_024) {
    throw new RangeError(`block sampling must be a power of two from 1 to 1024, got ${every}`);
  }
}

/**
 * A 32-bit table position from a block hash, mixing both halves: trace block ids are small and
 * sequential, engine hashes use all 53 bits.
 */
export function mixBlockHash(hash: number): number {
  const low = hash >>> 0;
  const high = (hash / 0x1_0000_0000) >>> 0;
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
