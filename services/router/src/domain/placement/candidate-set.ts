import type { ShardView } from './shard-view.js';

/**
 * The shards gathered as candidates for one decision, each at most once, in the order found.
 *
 * Membership is a stamp per shard-directory slot, so gathering hashes no shard id and allocates
 * nothing once the set has grown to the directory's size; `clear` is O(1) (a new stamp), so one set
 * is reused from decision to decision. The directory fills it (it knows the slots); `shards` is only
 * valid until the next `clear`.
 */
export class CandidateSet {
  readonly shards: ShardView[] = [];
  private stamps = new Uint32Array(64);
  private stamp = 1;

  /** Empties the set (and forgets exclusions) for the next decision. */
  clear(): void {
    this.shards.length = 0;
    this.stamp++;
    if (this.stamp === 0xffff_ffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
  }

  /** Whether the slot was added or excluded since the last `clear`. */
  has(slot: number): boolean {
    return slot < this.stamps.length && this.stamps[slot] === this.stamp;
  }

  /** Adds the shard in `slot` unless it was added or excluded already; true if it was added. */
  add(slot: number, shard: ShardView): boolean {
    if (this.has(slot)) return false;
    this.mark(slot);
    this.shards.push(shard);
    return true;
  }

  /** Keeps the shard in `slot` out of this decision's candidates. */
  exclude(slot: number): void {
    this.mark(slot);
  }

  private mark(slot: number): void {
    if (slot >= this.stamps.length) {
      let length = this.stamps.length * 2;
      while (length <= slot) length *= 2;
      const grown = new Uint32Array(length);
      grown.set(this.stamps);
      this.stamps = grown;
    }
    this.stamps[slot] = this.stamp;
  }
}
