import { mixBlockHash } from './block-set.js';

const EMPTY = 0;
const LIVE = 1;
const DELETED = 2;
const NONE = -1;

/**
 * An inverted index, block hash → holders (small integers), in typed arrays: open addressing over
 * the hashes with linked lists of holders in a node pool. It absorbs every block every shard serves
 * (a load report replaces hundreds of hashes), so it must not allocate per entry the way a
 * Map<number, number[]> does, which boxes each hash and costs an array per key.
 */
export class BlockIndex {
  private keys: Float64Array;
  private states: Uint8Array;
  /**
   * One bit per table entry, set once it is not EMPTY (live or deleted): an eighth of `states`, so
   * it stays in cache, and most lookups of a hash nobody holds (most of a new prompt's blocks) end
   * on it without touching the large arrays.
   */
  private used: Int32Array;
  private heads: Int32Array;
  private counts: Int32Array;
  private live = 0;
  private deleted = 0;
  private nodeHolder: Int32Array;
  private nodeNext: Int32Array;
  private nodesUsed = 0;
  private freeNode = NONE;

  constructor(initialCapacity = 1_024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.states = new Uint8Array(capacity);
    this.used = new Int32Array((capacity + 31) >>> 5);
    this.heads = new Int32Array(capacity).fill(NONE);
    this.counts = new Int32Array(capacity);
    this.nodeHolder = new Int32Array(capacity);
    this.nodeNext = new Int32Array(capacity);
  }

  /** Distinct hashes held by anyone. */
  get size(): number {
    return this.live;
  }

  /** How many holders a hash has. */
  count(hash: number): number {
    const at = this.find(hash);
    return at < 0 ? 0 : (this.counts[at] ?? 0);
  }

  /**
   * The table entry of a hash with at least one holder, or -1. With `holdersAt`, `firstNodeAt`,
   * `nextNode` and `holderOf`, a hot loop walks the holders without a callback or a second lookup.
   */
  entry(hash: number): number {
    return this.find(hash);
  }

  holdersAt(entry: number): number {
    return this.counts[entry] ?? 0;
  }

  /** The entry's first holder node, or -1. */
  firstNodeAt(entry: number): number {
    return this.heads[entry] ?? NONE;
  }

  /** The node after `node` in its holder list, or -1. */
  nextNode(node: number): number {
    return this.nodeNext[node] ?? NONE;
  }

  holderOf(node: number): number {
    return this.nodeHolder[node] ?? NONE;
  }

  /** Visits a hash's holders until `visit` returns false. */
  forEachHolder(hash: number, visit: (holder: number) => boolean): void {
    const at = this.find(hash);
    if (at < 0) return;
    for (let node = this.heads[at] ?? NONE; node !== NONE; node = this.nodeNext[node] ?? NONE) {
      if (!visit(this.nodeHolder[node] ?? NONE)) return;
    }
  }

  add(hash: number, holder: number): void {
    if ((this.live + this.deleted + 1) * 2 > this.keys.length) this.rehash();
    const mask = this.keys.length - 1;
    let index = mixBlockHash(hash) & mask;
    let reusable = NONE;
    for (;;) {
      const state = this.states[index];
      if (state === EMPTY) break;
      if (state === LIVE && this.keys[index] === hash) {
        this.push(index, holder);
        return;
      }
      if (state === DELETED && reusable === NONE) reusable = index;
      index = (index + 1) & mask;
    }
    if (reusable !== NONE) {
      index = reusable;
      this.deleted--;
    } else {
      markUsed(this.used, index);
    }
    this.states[index] = LIVE;
    this.keys[index] = hash;
    this.heads[index] = NONE;
    this.counts[index] = 0;
    this.live++;
    this.push(index, holder);
  }

  remove(hash: number, holder: number): void {
    const at = this.find(hash);
    if (at < 0) return;
    let previous = NONE;
    for (let node = this.heads[at] ?? NONE; node !== NONE; node = this.nodeNext[node] ?? NONE) {
      if (this.nodeHolder[node] === holder) {
        const next = this.nodeNext[node] ?? NONE;
        if (previous === NONE) this.heads[at] = next;
        else this.nodeNext[previous] = next;
        this.nodeNext[node] = this.freeNode;
        this.freeNode = node;
        const left = (this.counts[at] ?? 1) - 1;
        this.counts[at] = left;
        if (left === 0) {
          this.states[at] = DELETED;
          this.live--;
          this.deleted++;
        }
        return;
      }
      previous = node;
    }
  }

  private find(hash: number): number {
    const mask = this.keys.length - 1;
    const used = this.used;
    let index = mixBlockHash(hash) & mask;
    for (;;) {
      if (((used[index >>> 5] ?? 0) & (1 << (index & 31))) === 0) return NONE;
      const state = this.states[index];
      if (state === EMPTY || state === undefined) return NONE;
      if (state === LIVE && this.keys[index] === hash) return index;
      index = (index + 1) & mask;
    }
  }

  private push(at: number, holder: number): void {
    let node = this.freeNode;
    if (node !== NONE) {
      this.freeNode = this.nodeNext[node] ?? NONE;
    } else {
      node = this.nodesUsed++;
      if (node >= this.nodeHolder.length) {
        this.nodeHolder = grow(this.nodeHolder, new Int32Array(this.nodeHolder.length * 2));
        this.nodeNext = grow(this.nodeNext, new Int32Array(this.nodeNext.length * 2));
      }
    }
    this.nodeHolder[node] = holder;
    this.nodeNext[node] = this.heads[at] ?? NONE;
    this.heads[at] = node;
    this.counts[at] = (this.counts[at] ?? 0) + 1;
  }

  /** Drops deleted markers, and doubles when live entries fill a quarter of the table. */
  private rehash(): void {
    const { keys, states, heads, counts } = this;
    let capacity = keys.length;
    while (this.live * 4 > capacity) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.states = new Uint8Array(capacity);
    this.used = new Int32Array((capacity + 31) >>> 5);
    this.heads = new Int32Array(capacity).fill(NONE);
    this.counts = new Int32Array(capacity);
    this.deleted = 0;
    const mask = capacity - 1;
    for (let i = 0; i < keys.length; i++) {
      if (states[i] !== LIVE) continue;
      const hash = keys[i] ?? 0;
      let index = mixBlockHash(hash) & mask;
      while (this.states[index] !== EMPTY) index = (index + 1) & mask;
      markUsed(this.used, index);
      this.states[index] = LIVE;
      this.keys[index] = hash;
      this.heads[index] = heads[i] ?? NONE;
      this.counts[index] = counts[i] ?? 0;
    }
  }
}

function markUsed(used: Int32Array, index: number): void {
  used[index >>> 5] = (used[index >>> 5] ?? 0) | (1 << (index & 31));
}

function grow(from: Int32Array, to: Int32Array): Int32Array {
  to.set(from);
  return to;
}
