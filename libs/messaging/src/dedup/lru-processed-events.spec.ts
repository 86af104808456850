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
