import type {
  AssignmentRepository,
  CompareAndSetResult,
} from '../../src/application/ports/assignment.repository.port.js';
import type { Clock } from '../../src/application/ports/clock.port.js';
import type {
  ModelRoutesRepository,
  ReplaceModelRoutesResult,
} from '../../src/application/ports/model-routes.repository.port.js';
import type { ShardRepository } from '../../src/application/ports/shard.repository.port.js';
import { compareAndSet, type Assignment, type CompareAndSet } from '../../src/domain/assignment.js';
import {
  NO_SHARED_ROUTES,
  type ReplaceModelRoutes,
  type SharedModelRoutes,
} from '../../src/domain/model-routes.js';
import type { ShardLifecycleEvent } from '../../src/domain/shard-events.js';
import type { Shard, ShardLoad, ShardSpec } from '../../src/domain/shard.js';
import { aLoad } from '../../src/domain/test.factories.js';
import type { ShardRegistry } from '../../src/application/registry/shard-registry.js';

export class FakeClock implements Clock {
  constructor(public now = 1_700_000_000_000) {}
  nowMs(): number {
    return this.now;
  }
  advance(ms: number): void {
    this.now += ms;
  }
}

/** Remembers saves; a save can be held open to observe what happens meanwhile, or made to fail. */
export class FakeShardRepository implements ShardRepository {
  readonly rows = new Map<string, Shard>();
  readonly published: ShardLifecycleEvent[] = [];
  failNext: Error | undefined;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(initial: readonly Shard[] = []) {
    for (const shard of initial) this.rows.set(shard.shardId, shard);
  }

  async loadAll(): Promise<Shard[]> {
    return [...this.rows.values()];
  }

  async save(shard: Shard, events: readonly ShardLifecycleEvent[]): Promise<void> {
    await this.gate;
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.rows.set(shard.shardId, shard);
    this.published.push(...events);
  }

  /** Saves wait until release() is called. */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }
}

/** The compare-and-set rule over a Map, as PostgreSQL applies it. */
export class FakeAssignmentRepository implements AssignmentRepository {
  readonly rows = new Map<string, Assignment>();

  constructor(initial: readonly Assignment[] = []) {
    for (const assignment of initial) this.rows.set(assignment.conversationId, assignment);
  }

  async loadAll(onBatch: (batch: readonly Assignment[]) => void): Promise<number> {
    onBatch([...this.rows.values()]);
    return this.rows.size;
  }

  async compareAndSet(request: CompareAndSet, nowMs: number): Promise<CompareAndSetResult> {
    const stored = this.rows.get(request.conversationId);
    const outcome = compareAndSet(stored?.version, request);
    if (!outcome.applied) return { applied: false, current: stored };
    const current: Assignment = {
      conversationId: request.conversationId,
      tenantId: stored?.tenantId ?? request.tenantId,
      shardId: request.shardId,
      version: outcome.version,
      updatedAtMs: nowMs,
      reason: request.reason,
    };
    this.rows.set(request.conversationId, current);
    return { applied: true, current };
  }

  async listByShard(shardId: string, limit: number, after: string): Promise<Assignment[]> {
    return [...this.rows.values()]
      .filter((a) => (shardId === '' || a.shardId === shardId) && a.conversationId > after)
      .sort((a, b) => (a.conversationId < b.conversationId ? -1 : 1))
      .slice(0, limit);
  }
}

/** Collects up to `count` items from an async iterable. */
export async function take<T>(iterable: AsyncIterable<T>, count: number): Promise<T[]> {
  const items: T[] = [];
  if (count === 0) return items;
  for await (const item of iterable) {
    items.push(item);
    if (items.length === count) break;
  }
  return items;
}

/** Registers `spec` and sends one heartbeat that says ready (with a load report): a READY shard. */
export async function registerReadyShard(
  registry: ShardRegistry,
  spec: ShardSpec,
  load: ShardLoad = aLoad(),
): Promise<void> {
  await registry.execute(spec.shardId, (nowMs) => ({ kind: 'RegisterShard', spec, nowMs }));
  await registry.execute(spec.shardId, (nowMs) => ({
    kind: 'RecordHeartbeat',
    shardId: spec.shardId,
    load,
    ready: true,
    nowMs,
  }));
}

/** The shared model routes' store in memory, with the same compare-and-set rule. */
export class FakeModelRoutesRepository implements ModelRoutesRepository {
  constructor(public stored: SharedModelRoutes = NO_SHARED_ROUTES) {}

  async load(): Promise<SharedModelRoutes> {
    return this.stored;
  }

  async compareAndSet(
    request: ReplaceModelRoutes,
    nowMs: number,
  ): Promise<ReplaceModelRoutesResult> {
    if (request.expectedGeneration !== 0 && request.expectedGeneration !== this.stored.generation)
      return { applied: false, current: this.stored };
    this.stored = {
      table: request.table,
      generation: this.stored.generation + 1,
      updatedAtMs: nowMs,
      reason: request.reason,
    };
    return { applied: true, current: this.stored };
  }
}
