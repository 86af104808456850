import type { ProcessedEventStore } from '../ports.js';
import { LruProcessedEvents, TieredProcessedEvents } from './lru-processed-events.js';

class SetStore implements ProcessedEventStore {
  readonly ids = new Set<string>();
  async has(id: string): Promise<boolean> {
    return this.ids.has(id);
  }
  async remember(id: string): Promise<void> {
    this.ids.add(id);
  }
}

describe('LruProcessedEvents', () => {
  it('forgets the least recently seen id beyond its capacity', async () => {
    const lru = new LruProcessedEvents(2);
    await lru.remember('a');
    await lru.remember('b');
    expect(await lru.has('a')).toBe(true); // 'a' is now the most recent
    await lru.remember('c');
    expect(await lru.has('b')).toBe(false);
    expect(await lru.has('a')).toBe(true);
    expect(await lru.has('c')).toBe(true);
    expect(lru.size).toBe(2);
  });

  it('holds the last `capacity` distinct ids, whatever came before, and never more than twice that', async () => {
    const capacity = 50;
    const lru = new LruProcessedEvents(capacity);
    // A seeded walk over 400 ids with repeats: re-deliveries of recent ids among new ones.
    let seed = 7;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    const seen: string[] = [];
    let largest = 0;
    for (let i = 0; i < 5_000; i++) {
      const id = `e${next() % 400}`;
      if (next() % 2 === 0) await lru.remember(id);
      else if (await lru.has(id)) {
        // A hit is a sighting too.
      } else continue;
      seen.push(id);
      largest = Math.max(largest, lru.size);
    }
    // The last `capacity` distinct ids, oldest first (checking them in that order keeps it).
    const recent: string[] = [];
    for (let i = seen.length - 1; i >= 0 && recent.length < capacity; i--) {
      const id = seen[i] as string;
      if (!recent.includes(id)) recent.push(id);
    }
    recent.reverse();
    expect(recent).toHaveLength(capacity);
    for (const id of recent) expect(await lru.has(id)).toBe(true);
    expect(largest).toBeLessThanOrEqual(2 * capacity);
    expect(largest).toBeGreaterThanOrEqual(capacity);
  });

  it('forgets an id once twice its capacity of newer ids has been seen', async () => {
    const lru = new LruProcessedEvents(3);
    await lru.remember('old');
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) await lru.remember(id);
    expect(await lru.has('old')).toBe(false);
    expect(await lru.has('f')).toBe(true);
  });

  it('refuses a capacity below one', () => {
    expect(() => new LruProcessedEvents(0)).toThrow(/positive integer/);
  });
});

describe('TieredProcessedEvents', () => {
  it('consults the durable store on a memory miss and caches the hit', async () => {
    const durable = new SetStore();
    durable.ids.add('old');
    const memory = new LruProcessedEvents(10);
    const tiered = new TieredProcessedEvents(memory, durable);
    expect(await tiered.has('old')).toBe(true);
    expect(await memory.has('old')).toBe(true);
    expect(await tiered.has('new')).toBe(false);
    await tiered.remember('new');
    expect(durable.ids.has('new')).toBe(true);
  });
});
