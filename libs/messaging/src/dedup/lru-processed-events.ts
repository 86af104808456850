import type { ProcessedEventStore } from '../ports.js';

/**
 * The last `capacity` event ids, in memory. Re-deliveries after a rebalance or a relay re-send
 * arrive within seconds of the original, so a bounded window catches them without a database.
 */
export class LruProcessedEvents implements ProcessedEventStore {
  // A Map iterates in insertion order; re-inserting on a hit makes the first key the least recent.
  private readonly ids = new Map<string, true>();

  constructor(readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
    }
  }

  async has(eventId: string): Promise<boolean> {
    if (!this.ids.has(eventId)) return false;
    this.ids.delete(eventId);
    this.ids.set(eventId, true);
    return true;
  }

  async remember(eventId: string): Promise<void> {
    this.ids.delete(eventId);
    this.ids.set(eventId, true);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.keys().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}

/** The LRU in front, a durable store (if any) behind it. */
export class TieredProcessedEvents implements ProcessedEventStore {
  constructor(
    private readonly memory: ProcessedEventStore,
    private readonly durable: ProcessedEventStore | undefined,
  ) {}

  async has(eventId: string): Promise<boolean> {
    if (await this.memory.has(eventId)) return true;
    if (!this.durable || !(await this.durable.has(eventId))) return false;
    await this.memory.remember(eventId);
    return true;
  }

  async remember(eventId: string): Promise<void> {
    await this.durable?.remember(eventId);
    await this.memory.remember(eventId);
  }
}
