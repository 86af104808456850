// What a consumer's in-memory de-duplication costs per record: `has` then `remember` of one event
// id, as KafkaEventSubscriber does for every record, with @spillway/messaging's LruProcessedEvents
// at its default capacity (10,000), against the single-Map LRU it replaced (re-insert on every
// sighting, delete the first key once full). Ids are UUIDs (ce_id), almost all new, 1 in 50 a
// re-delivery of a recent one. Rounds alternate the two; CPU time of this process per record.
// Writes bench/results/consumer-dedup.json.
// Run: npx turbo run build --filter=@spillway/bench... && node bench/dist/consumer-dedup.js
//      [RECORDS=150000] [ROUNDS=5]
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LruProcessedEvents, type ProcessedEventStore } from '@spillway/messaging';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RECORDS = Number(process.env.RECORDS ?? 150_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CAPACITY = 10_000;

/** The implementation before session 9, kept here as the reference. */
class SingleMapLru implements ProcessedEventStore {
  private readonly ids = new Map<string, true>();
  constructor(private readonly capacity: number) {}
  async has(id: string): Promise<boolean> {
    if (!this.ids.has(id)) return false;
    this.ids.delete(id);
    this.ids.set(id, true);
    return true;
  }
  async remember(id: string): Promise<void> {
    this.ids.delete(id);
    this.ids.set(id, true);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.keys().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
  }
}

const ids: string[] = [];
for (let i = 0; i < RECORDS; i++) {
  ids.push(i > 100 && i % 50 === 0 ? (ids[i - 1 - (i % 97)] as string) : randomUUID());
}

/** CPU µs per record; the first 5 × capacity records fill the store and are not timed. */
async function perRecordUs(
  store: ProcessedEventStore,
): Promise<{ us: number; duplicates: number }> {
  const warm = 5 * CAPACITY;
  let duplicates = 0;
  for (let i = 0; i < warm; i++)
    if (!(await store.has(ids[i] as string))) await store.remember(ids[i] as string);
  const start = process.cpuUsage();
  for (let i = warm; i < ids.length; i++) {
    const id = ids[i] as string;
    if (await store.has(id)) duplicates++;
    else await store.remember(id);
  }
  const used = process.cpuUsage(start);
  return { us: (used.user + used.system) / (ids.length - warm), duplicates };
}

const rounds: { twoGenerations: number; singleMap: number }[] = [];
let duplicates = { twoGenerations: 0, singleMap: 0 };
const loadBefore = loadavg()[0] ?? 0;
for (let round = 0; round < ROUNDS; round++) {
  const twoGenerations = await perRecordUs(new LruProcessedEvents(CAPACITY));
  const singleMap = await perRecordUs(new SingleMapLru(CAPACITY));
  rounds.push({ twoGenerations: twoGenerations.us, singleMap: singleMap.us });
  duplicates = { twoGenerations: twoGenerations.duplicates, singleMap: singleMap.duplicates };
}
const median = (values: number[]): number =>
  values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const result = {
  benchmark: 'consumer-dedup',
  node: process.version,
  loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? 0 },
  capacity: CAPACITY,
  timedRecords: RECORDS - 5 * CAPACITY,
  duplicatesFound: duplicates,
  cpuUsPerRecord: {
    lruProcessedEvents: Number(median(rounds.map((r) => r.twoGenerations)).toFixed(2)),
    singleMapLru: Number(median(rounds.map((r) => r.singleMap)).toFixed(2)),
  },
  rounds: rounds.map((r) => ({
    lruProcessedEvents: Number(r.twoGenerations.toFixed(2)),
    singleMapLru: Number(r.singleMap.toFixed(2)),
  })),
};
writeFileSync(`${root}bench/results/consumer-dedup.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
