/**
 * A paged KV cache: a fixed number of blocks of `blockSize` tokens, reference-counted, with
 * vLLM-style automatic prefix caching. A block that holds a full, hashed run of tokens stays
 * findable by its hash after its last user frees it, until the space is needed: unreferenced
 * cached blocks are evicted least-recently-freed first. Blocks that never held a full block
 * (a sequence's partial tail) are reused before any cached block.
 */
export class KvBlockPool {
  readonly numBlocks: number;
  readonly blockSize: number;

  private readonly refCount: Int32Array;
  private readonly hashOf: Float64Array;
  private readonly byHash = new Map<number, number>();
  /** Unreferenced blocks without a hash: reusable at no cost. */
  private readonly clean: number[] = [];
  /** Unreferenced blocks with a hash, oldest first (Map iteration order is insertion order). */
  private readonly evictable = new Map<number, true>();
  private evictions = 0;

  constructor(numBlocks: number, blockSize: number) {
    if (!Number.isInteger(numBlocks) || numBlocks < 1)
      throw new RangeError('numBlocks must be a positive integer');
    if (!Number.isInteger(blockSize) || blockSize < 1)
      throw new RangeError('blockSize must be a positive integer');
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.refCount = new Int32Array(numBlocks);
    this.hashOf = new Float64Array(numBlocks).fill(-1);
    for (let id = numBlocks - 1; id >= 0; id--) this.clean.push(id);
  }

  /** Blocks that an allocation could take now (clean plus evictable cached blocks). */
  get freeBlocks(): number {
    return this.clean.length + this.evictable.size;
  }

  get usedBlocks(): number {
    return this.numBlocks - this.freeBlocks;
  }

  /** Fraction of blocks referenced by running sequences, 0..1 (vLLM's kv_cache_usage_perc). */
  get usage(): number {
    return this.usedBlocks / this.numBlocks;
  }

  get cachedBlocks(): number {
    return this.byHash.size;
  }

  get evictedBlocks(): number {
    return this.evictions;
  }

  refCountOf(block: number): number {
    return this.refCount[block] ?? 0;
  }

  hashOfBlock(block: number): number | undefined {
    const hash = this.hashOf[block] ?? -1;
    return hash < 0 ? undefined : hash;
  }

  /** The cached block holding `hash`, without taking a reference. */
  lookup(hash: number): number | undefined {
    return this.byHash.get(hash);
  }

  /** Takes a reference on a cached block found by `lookup` (a prefix-cache hit). */
  acquireCached(block: number): void {
    const refs = this.refCount[block] ?? 0;
    if (refs === 0) this.evictable.delete(block);
    this.refCount[block] = refs + 1;
  }

  /**
   * Allocates `count` fresh blocks (reference count 1), evicting cached blocks as needed; returns
   * undefined and changes nothing when fewer than `count` are free.
   */
  allocate(count: number): number[] | undefined {
    if (count > this.freeBlocks) return undefined;
    const blocks: number[] = [];
    for (let i = 0; i < count; i++) {
      let block = this.clean.pop();
      if (block === undefined) {
        const oldest = this.evictable.keys().next();
        if (oldest.done === true) throw new Error('KvBlockPool: free count out of sync');
        block = oldest.value;
        this.evictable.delete(block);
        this.byHash.delete(this.hashOf[block] ?? -1);
        this.hashOf[block] = -1;
        this.evictions++;
      }
      this.refCount[block] = 1;
      blocks.push(block);
    }
    return blocks;
  }

  /**
   * Records that `block` now holds the full token run identified by `hash`. When another block
   * already caches that hash the first one stays the cached copy (as in vLLM).
   */
  markFull(block: number, hash: number): void {
    if ((this.hashOf[block] ?? -1) >= 0 || this.byHash.has(hash)) return;
    this.hashOf[block] = hash;
    this.byHash.set(hash, block);
  }

  /**
   * Drops one reference from each block. Blocks are given in sequence order and released in
   * reverse, so a sequence's tail is evicted before its (more shareable) head.
   */
  release(blocks: readonly number[]): void {
    for (let i = blocks.length - 1; i >= 0; i--) {
      const block = blocks[i];
      if (block === undefined) continue;
      const refs = (this.refCount[block] ?? 0) - 1;
      if (refs < 0) throw new Error(`KvBlockPool: block ${block} released more often than taken`);
      this.refCount[block] = refs;
      if (refs > 0) continue;
      if ((this.hashOf[block] ?? -1) >= 0) this.evictable.set(block, true);
      else this.clean.push(block);
    }
  }
}
