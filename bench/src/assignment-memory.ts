// Memory per assignment in shard-metadata's in-memory map (AssignmentTable) at 1,000,000
// conversations, against a plain Map of objects for comparison. Conversation ids are UUIDs (what
// the gateway mints), 1,000 shards, 10,000 tenants, four reasons. Writes
// bench/results/assignment-memory.json. Build first: npx turbo run build --filter=@spillway/shard-metadata
// Run: node bench/dist/assignment-memory.js  [COUNT=1000000]
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What this benchmark uses of shard-metadata's AssignmentTable. */
interface AssignmentStore {
  apply(assignment: Assignment): boolean;
  get(conversationId: string): Assignment | undefined;
  readonly size: number;
}

// Loaded by a computed specifier: bench/package.json does not depend on @spillway/shard-metadata,
// so a static import would make `turbo run build` order-dependent. Build shard-metadata first.
const tableModule = '@spillway/shard-metadata/assignment-table';
const { AssignmentTable } = (await import(tableModule)) as {
  AssignmentTable: new () => AssignmentStore;
};

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const root = fileURLToPath(new URL('../..', import.meta.url));
const count = Number(process.env.COUNT ?? 1_000_000);
const shards = Array.from({ length: 1_000 }, (_, i) => `shard-${String(i).padStart(4, '0')}`);
const tenants = Array.from({ length: 10_000 }, (_, i) => `tenant-${i}`);
const reasons = ['placed', 'spill', 'failover', 'migration'];

interface Assignment {
  readonly conversationId: string;
  readonly tenantId: string;
  readonly shardId: string;
  readonly version: number;
  readonly updatedAtMs: number;
  readonly reason: string;
}

/**
 * randomUUID() builds its result by concatenation, i.e. as a tree of ~20 cons-string nodes (several
 * hundred bytes). Ids that reach the service arrive decoded from bytes (pg rows, protobuf), which
 * gives flat strings; decode from bytes here too so the figure is the service's.
 */
function conversationId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

function assignment(i: number): Assignment {
  return {
    conversationId: conversationId(),
    tenantId: tenants[i % tenants.length] ?? '',
    shardId: shards[(i * 7) % shards.length] ?? '',
    version: 1 + (i % 5),
    updatedAtMs: 1_763_800_000_000 + i,
    reason: reasons[i % reasons.length] ?? '',
  };
}

/** Heap plus ArrayBuffer memory (typed arrays live outside the JS heap), after a full GC. */
function usedBytes(): number {
  for (let i = 0; i < 3; i++) gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function measure(
  label: string,
  build: () => { size: number; get(id: string): unknown },
  probe: string[],
): { label: string; bytesPerAssignment: number; totalMb: number } {
  const before = usedBytes();
  const store = build();
  const after = usedBytes();
  // Keep the store alive through the measurement, and check it answers.
  if (store.size !== count || probe.some((id) => store.get(id) === undefined))
    throw new Error(`${label}: lookups failed`);
  const bytes = after - before;
  return {
    label,
    bytesPerAssignment: Math.round((bytes / count) * 10) / 10,
    totalMb: Math.round(bytes / 1e5) / 10,
  };
}

// A few ids are kept aside to check lookups; everything else is only referenced by the store.
const probe: string[] = [];
const remember = (a: Assignment, i: number): Assignment => {
  if (i % 100_000 === 0) probe.push(a.conversationId);
  return a;
};

const table = measure(
  'AssignmentTable (typed arrays + interning)',
  () => {
    const t = new AssignmentTable();
    for (let i = 0; i < count; i++) t.apply(remember(assignment(i), i));
    return t;
  },
  probe,
);

probe.length = 0;
const objects = measure(
  'Map<string, object> (naive)',
  () => {
    const map = new Map<string, Assignment>();
    for (let i = 0; i < count; i++) {
      const a = remember(assignment(i), i);
      // Interned shard/tenant/reason strings here too: only the per-entry object differs.
      map.set(a.conversationId, { ...a });
    }
    return map;
  },
  probe,
);

probe.length = 0;
const floor = measure(
  'Map<string, number> (floor: id strings + Map entries only)',
  () => {
    const map = new Map<string, number>();
    for (let i = 0; i < count; i++) map.set(remember(assignment(i), i).conversationId, i);
    return map;
  },
  probe,
);

const results = [table, objects, floor];
const report = {
  benchmark: 'assignment-memory',
  count,
  conversationId: 'uuid (36 chars)',
  node: process.version,
  results,
};
writeFileSync(
  `${root}bench/results/assignment-memory.json`,
  `${JSON.stringify(report, null, 2)}\n`,
);
console.table(results);
