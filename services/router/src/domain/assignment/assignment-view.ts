/** One conversation's pin, as the shard registry stores it. */
export interface Assignment {
  readonly conversationId: string;
  readonly shardId: string;
  /** Starts at 1 and grows by one with every change; 0 means "unassigned". */
  readonly version: number;
}

export type CompareAndSetResult =
  | { readonly applied: true; readonly current: Assignment }
  | { readonly applied: false; readonly current: Assignment | undefined };

const NO_SHARD = 0;

/**
 * The router's in-memory copy of the conversation → shard map, built for 1,000,000 conversations at
 * well under 200 bytes each: shard ids are interned to small integers, shard and version live in
 * typed arrays indexed by a slot, and one Map holds conversation id → slot. The Map entry and the id
 * string dominate; no object is kept per conversation.
 *
 * The registry is authoritative. A router applies the answer to its compare-and-set
 * (`applyRemote(response.current)`) and every watched change the same way: an update with a version
 * not newer than the one held is ignored, so replays and reordering are harmless.
 * `compareAndSet` is the same rule the registry enforces, for a router that holds the only copy (tests,
 * a single replica).
 */
export class AssignmentView {
  private readonly slotOf = new Map<string, number>();
  private shardOfSlot: Uint16Array | Uint32Array;
  private versionOfSlot: Float64Array;
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  // Interned shard ids: index 0 is "no shard".
  private readonly shardIds: string[] = [''];
  private readonly shardIndex = new Map<string, number>();
  private pinned: Uint32Array = new Uint32Array(16);

  constructor(initialCapacity = 1_024) {
    this.shardOfSlot = new Uint16Array(initialCapacity);
    this.versionOfSlot = new Float64Array(initialCapacity);
  }

  get size(): number {
    return this.slotOf.size;
  }

  get(conversationId: string): Assignment | undefined {
    const slot = this.slotOf.get(conversationId);
    if (slot === undefined) return undefined;
    return {
      conversationId,
      shardId: this.shardIds[this.shardOfSlot[slot] ?? NO_SHARD] ?? '',
      version: this.versionOfSlot[slot] ?? 0,
    };
  }

  shardOf(conversationId: string): string | undefined {
    const slot = this.slotOf.get(conversationId);
    return slot === undefined ? undefined : this.shardIds[this.shardOfSlot[slot] ?? NO_SHARD];
  }

  versionOf(conversationId: string): number {
    const slot = this.slotOf.get(conversationId);
    return slot === undefined ? 0 : (this.versionOfSlot[slot] ?? 0);
  }

  compareAndSet(
    conversationId: string,
    expectedVersion: number,
    shardId: string,
  ): CompareAndSetResult {
    const version = this.versionOf(conversationId);
    if (version !== expectedVersion) return { applied: false, current: this.get(conversationId) };
    const current = { conversationId, shardId, version: version + 1 };
    this.write(current);
    return { applied: true, current };
  }

  /** Applies an authoritative assignment unless one at least as new is held; true if it changed. */
  applyRemote(assignment: Assignment): boolean {
    if (assignment.version <= this.versionOf(assignment.conversationId)) return false;
    this.write(assignment);
    return true;
  }

  /** A closed conversation leaves the map. */
  remove(conversationId: string): boolean {
    const slot = this.slotOf.get(conversationId);
    if (slot === undefined) return false;
    this.unpin(this.shardOfSlot[slot] ?? NO_SHARD);
    this.shardOfSlot[slot] = NO_SHARD;
    this.versionOfSlot[slot] = 0;
    this.slotOf.delete(conversationId);
    this.freeSlots.push(slot);
    return true;
  }

  /** Conversations pinned to a shard (a scan: for the migration saga, not the hot path). */
  conversationsOn(shardId: string): string[] {
    const index = this.shardIndex.get(shardId);
    if (index === undefined) return [];
    const out: string[] = [];
    for (const [conversationId, slot] of this.slotOf) {
      if (this.shardOfSlot[slot] === index) out.push(conversationId);
    }
    return out;
  }

  /** How many conversations a shard holds (the cheapest shard to empty is drained first). */
  pinnedCount(shardId: string): number {
    const index = this.shardIndex.get(shardId);
    return index === undefined ? 0 : (this.pinned[index] ?? 0);
  }

  private write(assignment: Assignment): void {
    let slot = this.slotOf.get(assignment.conversationId);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.allocateSlot();
      this.slotOf.set(assignment.conversationId, slot);
    } else {
      this.unpin(this.shardOfSlot[slot] ?? NO_SHARD);
    }
    const shard = this.intern(assignment.shardId);
    this.shardOfSlot[slot] = shard;
    this.versionOfSlot[slot] = assignment.version;
    this.pinned[shard] = (this.pinned[shard] ?? 0) + 1;
  }

  private allocateSlot(): number {
    const slot = this.nextSlot++;
    if (slot >= this.versionOfSlot.length) {
      const capacity = this.versionOfSlot.length * 2;
      this.versionOfSlot = grow(this.versionOfSlot, new Float64Array(capacity));
      this.shardOfSlot =
        this.shardOfSlot instanceof Uint16Array
          ? grow(this.shardOfSlot, new Uint16Array(capacity))
          : grow(this.shardOfSlot, new Uint32Array(capacity));
    }
    return slot;
  }

  private intern(shardId: string): number {
    let index = this.shardIndex.get(shardId);
    if (index !== undefined) return index;
    index = this.shardIds.length;
    this.shardIds.push(shardId);
    this.shardIndex.set(shardId, index);
    if (index > 0xffff && this.shardOfSlot instanceof Uint16Array) {
      this.shardOfSlot = grow(this.shardOfSlot, new Uint32Array(this.shardOfSlot.length));
    }
    if (index >= this.pinned.length)
      this.pinned = grow(this.pinned, new Uint32Array(this.pinned.length * 2));
    return index;
  }

  private unpin(shard: number): void {
    if (shard !== NO_SHARD) this.pinned[shard] = Math.max(0, (this.pinned[shard] ?? 0) - 1);
  }
}

function grow<T extends Uint16Array | Uint32Array | Float64Array>(
  from: ArrayLike<number>,
  to: T,
): T {
  to.set(from);
  return to;
}
