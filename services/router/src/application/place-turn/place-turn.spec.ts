import { DomainError } from '@spillway/errors';
import {
  AssignmentView,
  DEFAULT_PLACEMENT_CONFIG,
  DEFAULT_SPILL_COST,
  NO_QUEUES,
  PlacedPrefixes,
  PlacementPipeline,
  aDirectory,
  aShard,
  seededRandom,
  type ModelRouteTable,
  type ShardDirectory,
} from '../../domain/index.js';
import type {
  AssignmentRegistryPort,
  CompareAndSetAssignment,
} from '../assignment-registry.port.js';
import type { LogFields, LogPort } from '../log.port.js';
import {
  PlaceTurn,
  type ConversationMove,
  type ConversationPin,
  type PlaceTurnCommand,
  type SpillCostDependencies,
} from './place-turn.js';

/** The spill rule pricing the recompute by the turns that wait for it only (no cache charge). */
const WAITERS_ONLY = { ...DEFAULT_SPILL_COST, cacheTurns: 0 };

/** The registry's compare-and-set, in memory: the fake port, shared by router replicas. */
class InMemoryRegistry implements AssignmentRegistryPort {
  readonly authority = new AssignmentView();
  readonly calls: CompareAndSetAssignment[] = [];

  async compareAndSet(request: CompareAndSetAssignment) {
    this.calls.push(request);
    return this.authority.compareAndSet(
      request.conversationId,
      request.expectedVersion,
      request.shardId,
    );
  }
}

const routes: ModelRouteTable = { models: { llama: { pools: [{ pool: 'pool-a', weight: 1 }] } } };

function aReplica(
  shards: ShardDirectory,
  registry: InMemoryRegistry,
  table: () => ModelRouteTable = () => routes,
  moves: ConversationMove[] = [],
  spillCost?: SpillCostDependencies,
  prefixes?: PlacedPrefixes,
) {
  const pins: ConversationPin[] = [];
  const assignments = new AssignmentView();
  const placeTurn = new PlaceTurn({
    pipeline: new PlacementPipeline(DEFAULT_PLACEMENT_CONFIG, seededRandom(9)),
    shards,
    assignments,
    routes: { current: table },
    registry,
    clock: { nowMs: () => 1_000 },
    queues: NO_QUEUES,
    moves: { moved: (move) => moves.push(move), pinned: (pin) => pins.push(pin) },
    spillCost,
    prefixes,
  });
  return { placeTurn, assignments, moves, pins };
}

function aCommand(overrides: Partial<PlaceTurnCommand> = {}): PlaceTurnCommand {
  return {
    tenantId: 'tenant-1',
    conversationId: 'c-1',
    turnId: 't-1',
    model: 'llama',
    promptBlocks: [1, 2, 3],
    promptTokens: 48,
    priority: 'standard',
    ...overrides,
  };
}

const swamped = {
  inFlight: 8,
  running: 8,
  waiting: 30,
  ttftMsP50: 300,
  itlMsP50: 10,
  prefillBacklogMs: 10_000,
};

describe('place turn', () => {
  it('pins a new conversation through the registry and then keeps it there', async () => {
    const registry = new InMemoryRegistry();
    const { placeTurn, assignments } = aReplica(
      aDirectory(aShard({ id: 'a' }), aShard({ id: 'b' })),
      registry,
    );

    const first = await placeTurn.execute(aCommand());
    const second = await placeTurn.execute(aCommand({ turnId: 't-2' }));

    expect(first).toMatchObject({
      kind: 'placed',
      pinned: true,
      decision: { reason: 'new' },
      assignment: { version: 1 },
    });
    const shardId = first.kind === 'placed' ? first.decision.shard.id : '';
    expect(second).toMatchObject({
      kind: 'placed',
      decision: { reason: 'affinity', shard: { id: shardId } },
    });
    expect(registry.calls).toHaveLength(1);
    expect(assignments.shardOf('c-1')).toBe(shardId);
  });

  it('re-pins the conversation with compare-and-set when it spills', async () => {
    const registry = new InMemoryRegistry();
    registry.authority.compareAndSet('c-1', 0, 'home');
    const shards = aDirectory(aShard({ id: 'home', load: swamped }), aShard({ id: 'spare' }));
    const { placeTurn, assignments } = aReplica(shards, registry);
    assignments.applyRemote({ conversationId: 'c-1', shardId: 'home', version: 1 });

    const result = await placeTurn.execute(aCommand());

    expect(result).toMatchObject({
      kind: 'placed',
      pinned: true,
      decision: { reason: 'spill', shard: { id: 'spare' } },
    });
    expect(registry.calls).toEqual([
      expect.objectContaining({ shardId: 'spare', expectedVersion: 1, reason: 'spill' }),
    ]);
    expect(registry.authority.get('c-1')).toMatchObject({ shardId: 'spare', version: 2 });
  });

  it('two replicas place one conversation on the same shard, and both follow a spill', async () => {
    const registry = new InMemoryRegistry();
    const shards = aDirectory(...['a', 'b', 'c', 'd'].map((id) => aShard({ id })));
    const one = aReplica(shards, registry);
    const two = aReplica(shards, registry);

    const first = await one.placeTurn.execute(aCommand());
    // Replica two has not seen the watch update yet: its own choice may differ, the registry decides.
    const second = await two.placeTurn.execute(aCommand({ turnId: 't-2' }));
    const home = first.kind === 'placed' ? first.decision.shard.id : '';
    expect(second).toMatchObject({
      kind: 'placed',
      pinned: true,
      decision: { shard: { id: home } },
    });

    shards.upsert(aShard({ id: home, load: swamped }));
    const spilled = await two.placeTurn.execute(aCommand({ turnId: 't-3' }));
    expect(spilled).toMatchObject({ kind: 'placed', decision: { reason: 'spill' } });
    const spillShard = spilled.kind === 'placed' ? spilled.decision.shard.id : '';

    // Replica one still believes the old pin; the registry answer moves it along.
    const after = await one.placeTurn.execute(aCommand({ turnId: 't-4' }));
    expect(after).toMatchObject({
      kind: 'placed',
      pinned: true,
      decision: { shard: { id: spillShard } },
    });
    expect(one.assignments.get('c-1')).toEqual(two.assignments.get('c-1'));
  });

  it('follows a rollback at once: the next turn migrates to the stable pool', async () => {
    const registry = new InMemoryRegistry();
    const shards = aDirectory(
      aShard({ id: 'canary', pool: 'v2' }),
      aShard({ id: 'stable', pool: 'v1' }),
    );
    let table: ModelRouteTable = {
      models: {
        llama: {
          pools: [
            { pool: 'v1', weight: 0 },
            { pool: 'v2', weight: 1 },
          ],
        },
      },
    };
    const { placeTurn } = aReplica(shards, registry, () => table);
    expect(await placeTurn.execute(aCommand())).toMatchObject({
      decision: { shard: { id: 'canary' } },
    });

    table = {
      models: {
        llama: {
          pools: [
            { pool: 'v1', weight: 1 },
            { pool: 'v2', weight: 0 },
          ],
        },
      },
    };

    expect(await placeTurn.execute(aCommand({ turnId: 't-2' }))).toMatchObject({
      kind: 'placed',
      decision: { reason: 'migration', shard: { id: 'stable' } },
    });
  });

  it('falls back to the model other pools when its own has no shard', async () => {
    const table: ModelRouteTable = {
      models: {
        llama: {
          pools: [
            { pool: 'empty', weight: 1 },
            { pool: 'pool-a', weight: 0.000001 },
          ],
        },
      },
    };
    const { placeTurn } = aReplica(
      aDirectory(aShard({ id: 'a' })),
      new InMemoryRegistry(),
      () => table,
    );
    expect(await placeTurn.execute(aCommand())).toMatchObject({
      kind: 'placed',
      decision: { shard: { id: 'a' } },
    });
  });

  it('says so for an unknown model and for a model without any ready shard', async () => {
    const { placeTurn } = aReplica(
      aDirectory(aShard({ id: 'a', state: 'failed' })),
      new InMemoryRegistry(),
    );
    expect(await placeTurn.execute(aCommand({ model: 'nope' }))).toEqual({
      kind: 'unknown-model',
      model: 'nope',
    });
    expect(await placeTurn.execute(aCommand())).toMatchObject({
      kind: 'unplaceable',
      pools: ['pool-a'],
    });
  });

  it('returns the shadow pool when the turn is sampled for it', async () => {
    const table: ModelRouteTable = {
      models: {
        llama: {
          pools: [{ pool: 'pool-a', weight: 1 }],
          shadow: { pool: 'pool-shadow', sampleRate: 1 },
        },
      },
    };
    const { placeTurn } = aReplica(
      aDirectory(aShard({ id: 'a' })),
      new InMemoryRegistry(),
      () => table,
    );
    expect(await placeTurn.execute(aCommand())).toMatchObject({
      kind: 'placed',
      shadowPool: 'pool-shadow',
    });
  });

  it('places without pinning when asked (a stateless turn with no conversation id)', async () => {
    const registry = new InMemoryRegistry();
    const { placeTurn } = aReplica(aDirectory(aShard({ id: 'a' })), registry);

    const result = await placeTurn.execute(aCommand({ pin: false }));

    expect(result).toMatchObject({
      kind: 'placed',
      pinned: false,
      unpinnedBecause: 'not-requested',
    });
    expect(registry.calls).toHaveLength(0);
  });

  it('hands back the shard the registry refuses to pin to', async () => {
    const registry = new InMemoryRegistry();
    registry.compareAndSet = async () => {
      throw new DomainError('SHARD.DRAINING', 'shard a is draining');
    };
    const { placeTurn } = aReplica(aDirectory(aShard({ id: 'a' })), registry);

    expect(await placeTurn.execute(aCommand())).toMatchObject({
      kind: 'shard-refused',
      shardId: 'a',
      error: { code: 'SHARD.DRAINING' },
    });
  });

  it('still places the turn, unpinned, while the registry is unreachable', async () => {
    const registry = new InMemoryRegistry();
    registry.compareAndSet = async () => {
      throw new DomainError('DEPENDENCY.UNAVAILABLE', 'registry unreachable');
    };
    const { placeTurn } = aReplica(aDirectory(aShard({ id: 'a' })), registry);

    expect(await placeTurn.execute(aCommand())).toMatchObject({
      kind: 'placed',
      pinned: false,
      unpinnedBecause: 'registry-unavailable',
      decision: { shard: { id: 'a' }, reason: 'new' },
    });
  });

  it('pins in the background when asked, and applies the registry’s answer when it comes', async () => {
    const registry = new InMemoryRegistry();
    let answer: (value: unknown) => void = () => undefined;
    const gate = new Promise((resolve) => (answer = resolve));
    const compareAndSet = registry.compareAndSet.bind(registry);
    registry.compareAndSet = async (request) => {
      await gate;
      return compareAndSet(request);
    };
    const { placeTurn, assignments } = aReplica(aDirectory(aShard({ id: 'a' })), registry);

    const result = await placeTurn.execute(aCommand({ pin: 'background', purpose: 'failover' }));

    expect(result).toMatchObject({ kind: 'placed', pinned: false, unpinnedBecause: 'pinning' });
    expect(assignments.get('c-1')).toBeUndefined();
    answer(undefined);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(assignments.get('c-1')).toMatchObject({ shardId: 'a', version: 1 });
  });

  describe('moves off a shard the conversation had to leave', () => {
    function pinnedTo(shardId: string, shards: ShardDirectory) {
      const registry = new InMemoryRegistry();
      registry.authority.compareAndSet('c-1', 0, shardId);
      const replica = aReplica(shards, registry);
      replica.assignments.applyRemote({ conversationId: 'c-1', shardId, version: 1 });
      return { registry, ...replica };
    }

    it('reports a failover re-pin, once it has applied, with where the conversation came from', async () => {
      const { placeTurn, moves } = pinnedTo(
        'home',
        aDirectory(aShard({ id: 'home' }), aShard({ id: 'spare' })),
      );
      const result = await placeTurn.execute(
        aCommand({ purpose: 'failover', excludedShardIds: ['home'] }),
      );
      expect(result).toMatchObject({
        kind: 'placed',
        pinned: true,
        decision: { reason: 'failover' },
      });
      expect(moves).toEqual([
        {
          tenantId: 'tenant-1',
          conversationId: 'c-1',
          fromShardId: 'home',
          toShardId: 'spare',
          reason: 'failover',
          fromVersion: 1,
          toVersion: 2,
        },
      ]);
    });

    it('reports a background failover re-pin when the registry applies it', async () => {
      const { placeTurn, moves } = pinnedTo(
        'home',
        aDirectory(aShard({ id: 'home' }), aShard({ id: 'spare' })),
      );
      await placeTurn.execute(
        aCommand({ pin: 'background', purpose: 'failover', excludedShardIds: ['home'] }),
      );
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(moves).toMatchObject([
        { fromShardId: 'home', toShardId: 'spare', reason: 'failover' },
      ]);
    });

    it('reports no move for a spill, a new conversation, or a pin another replica won', async () => {
      const spill = pinnedTo(
        'home',
        aDirectory(aShard({ id: 'home', load: swamped }), aShard({ id: 'spare' })),
      );
      await spill.placeTurn.execute(aCommand());
      expect(spill.registry.authority.get('c-1')?.shardId).toBe('spare');
      expect(spill.moves).toEqual([]);

      const fresh = aReplica(aDirectory(aShard({ id: 'a' })), new InMemoryRegistry());
      await fresh.placeTurn.execute(aCommand());
      expect(fresh.moves).toEqual([]);

      // Another replica moved it first: this replica's compare-and-set does not apply.
      const lost = pinnedTo('home', aDirectory(aShard({ id: 'home' }), aShard({ id: 'spare' })));
      lost.registry.authority.compareAndSet('c-1', 1, 'home-2');
      await lost.placeTurn.execute(
        aCommand({ pin: 'background', purpose: 'failover', excludedShardIds: ['home'] }),
      );
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(lost.moves).toEqual([]);
      expect([...spill.pins, ...fresh.pins, ...lost.pins]).toEqual([]);
    });

    it("reports a stored conversation's first pin and its spill as pins, with the version replaced", async () => {
      const fresh = aReplica(aDirectory(aShard({ id: 'a' })), new InMemoryRegistry());
      await fresh.placeTurn.execute(aCommand({ stored: true }));
      expect(fresh.pins).toEqual([
        {
          tenantId: 'tenant-1',
          conversationId: 'c-1',
          shardId: 'a',
          reason: 'new',
          fromVersion: 0,
          toVersion: 1,
        },
      ]);

      const spill = pinnedTo(
        'home',
        aDirectory(aShard({ id: 'home', load: swamped }), aShard({ id: 'spare' })),
      );
      await spill.placeTurn.execute(aCommand({ stored: true }));
      expect(spill.pins).toEqual([
        {
          tenantId: 'tenant-1',
          conversationId: 'c-1',
          shardId: 'spare',
          reason: 'spill',
          fromVersion: 1,
          toVersion: 2,
        },
      ]);
      expect(spill.moves).toEqual([]);

      // Affinity changes nothing: no pin to record.
      await spill.placeTurn.execute(aCommand({ stored: true }));
      expect(spill.pins).toHaveLength(1);
    });
  });

  describe('spill cost (ADR 0009)', () => {
    // A 16,000-token prompt (1,000 blocks of 16), all but its last block cached on the home shard.
    const blocks = Array.from({ length: 1_000 }, (_, i) => i + 1);
    const command = aCommand({ promptBlocks: blocks, promptTokens: 16_000 });
    /** Home is `overMs` past the 2 s budget, behind prefill already queued there. */
    const fleet = (overMs: number) =>
      aDirectory(
        aShard({
          id: 'home',
          blocks: blocks.slice(0, 999),
          load: { inFlight: 2, prefillBacklogMs: 2_000 + overMs },
        }),
        aShard({ id: 'spare', load: { inFlight: 1 } }),
      );

    function weighing(
      overMs: number,
      shardsPort: Partial<SpillCostDependencies['shards']> = {},
    ): {
      replica: ReturnType<typeof aReplica>;
      declined: () => readonly string[];
      lines: { message: string; fields: LogFields }[];
    } {
      const declined: string[] = [];
      const lines: { message: string; fields: LogFields }[] = [];
      const log: LogPort = {
        debug: (message, fields) =>
          lines.push({ message, fields: typeof fields === 'function' ? fields() : (fields ?? {}) }),
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      };
      const registry = new InMemoryRegistry();
      registry.authority.compareAndSet('c-1', 0, 'home');
      const replica = aReplica(fleet(overMs), registry, () => routes, [], {
        config: WAITERS_ONLY,
        shards: {
          turnsAwaitingFirstToken: () => 1,
          wouldRefuse: () => false,
          ...shardsPort,
        },
        metrics: { spillDeclined: (why) => void declined.push(why) },
        log,
      });
      replica.assignments.applyRemote({ conversationId: 'c-1', shardId: 'home', version: 1 });
      return { replica, declined: () => declined, lines };
    }

    it('keeps a turn home, placed and not refused, when its cached context costs more than the spill buys', async () => {
      // 100 ms over budget at home; the spare would prefill 15,984 cached tokens again (1.6 s at the
      // default 10,000 tokens/s), charged to its next turn and the one waiting there.
      const { replica, declined, lines } = weighing(100);

      const result = await replica.placeTurn.execute(command);

      expect(result).toMatchObject({
        kind: 'placed',
        pinned: true,
        decision: { reason: 'affinity', shard: { id: 'home' } },
        spill: {
          spill: false,
          why: 'cost-exceeds-gain',
          fromShardId: 'home',
          toShardId: 'spare',
          recomputeTokens: 15_984,
          waitingOnTarget: 1,
          turnsCharged: 2,
        },
      });
      if (result.kind !== 'placed') throw new Error('not placed');
      expect(result.decision.scores.predicted.ttftMs).toBeGreaterThan(2_000);
      expect(result.spill?.gainMs).toBeCloseTo(100 + result.decision.scores.predicted.prefillMs, 6);
      expect(result.spill?.costMs).toBeCloseTo(2 * 1_598.4, 6);
      expect(declined()).toEqual(['cost-exceeds-gain']);
      expect(replica.assignments.shardOf('c-1')).toBe('home');
      expect(lines).toEqual([
        {
          message: 'spill weighed',
          fields: expect.objectContaining({ taken: false, why: 'cost-exceeds-gain', from: 'home' }),
        },
      ]);
    });

    it('spills when home breaks the budget by more than the recompute costs', async () => {
      const { replica, declined, lines } = weighing(6_000);

      const result = await replica.placeTurn.execute(command);

      expect(result).toMatchObject({
        kind: 'placed',
        pinned: true,
        decision: { reason: 'spill', shard: { id: 'spare' }, previousShardId: 'home' },
        spill: { spill: true, why: 'gain-exceeds-cost' },
      });
      expect(declined()).toEqual([]);
      expect(lines[0]?.fields).toMatchObject({ taken: true, why: 'gain-exceeds-cost' });
    });

    it('spills whatever the cost when staying home would get the turn refused', async () => {
      const { replica, declined } = weighing(100, { wouldRefuse: (shardId) => shardId === 'home' });

      const result = await replica.placeTurn.execute(command);

      expect(result).toMatchObject({
        decision: { reason: 'spill', shard: { id: 'spare' } },
        spill: { spill: true, why: 'refused-at-home' },
      });
      expect(declined()).toEqual([]);
    });

    it('leaves placements that are not spills alone', async () => {
      const { replica, lines } = weighing(-1_000);

      const result = await replica.placeTurn.execute(command);

      expect(result).toMatchObject({ decision: { reason: 'affinity', shard: { id: 'home' } } });
      expect(result.kind === 'placed' && result.spill).toBe(undefined);
      expect(lines).toEqual([]);
    });
    it('keeps home a turn whose context the router knows home holds, predicting only what is new', async () => {
      // Home's report lists none of the prompt (it is longer than the report's window), so from
      // the report alone placement would predict the whole 1.6 s prefill there and propose a
      // spill; but the router sent home this conversation's previous prompt, 999 of these blocks,
      // and placement is told so: no spill is proposed, none declined.
      const registry = new InMemoryRegistry();
      registry.authority.compareAndSet('c-1', 0, 'home');
      const shards = aDirectory(
        aShard({ id: 'home', load: { inFlight: 2, prefillBacklogMs: 1_900 } }),
        aShard({ id: 'spare', load: { inFlight: 1 } }),
      );
      const declined: string[] = [];
      const prefixes = new PlacedPrefixes();
      prefixes.record('c-1', 'home', blocks.slice(0, 999));
      const replica = aReplica(
        shards,
        registry,
        () => routes,
        [],
        {
          config: WAITERS_ONLY,
          shards: { turnsAwaitingFirstToken: () => 0, wouldRefuse: () => false },
          metrics: { spillDeclined: (why) => void declined.push(why) },
        },
        prefixes,
      );
      replica.assignments.applyRemote({ conversationId: 'c-1', shardId: 'home', version: 1 });

      const result = await replica.placeTurn.execute(command);

      expect(result).toMatchObject({
        decision: {
          reason: 'affinity',
          shard: { id: 'home' },
          scores: { predicted: { queueWaitMs: 1_900, prefillMs: 1.6 } },
        },
      });
      expect(result.kind === 'placed' && result.spill).toBe(undefined);
      expect(declined).toEqual([]);
      // The next turn, which extends this one, is known to be there too.
      expect(prefixes.heldOn('c-1', 'home', [...blocks, 1_001])).toBe(1_000);
    });
    it('predicts an affinity turn’s prefill from what the router sent its shard', async () => {
      const registry = new InMemoryRegistry();
      registry.authority.compareAndSet('c-1', 0, 'home');
      const prefixes = new PlacedPrefixes();
      prefixes.record('c-1', 'home', blocks.slice(0, 500));
      const replica = aReplica(
        aDirectory(aShard({ id: 'home' }), aShard({ id: 'spare' })),
        registry,
        () => routes,
        [],
        undefined,
        prefixes,
      );
      replica.assignments.applyRemote({ conversationId: 'c-1', shardId: 'home', version: 1 });

      const result = await replica.placeTurn.execute(command);

      // 8,000 of 16,000 tokens to prefill at 10,000 tokens/s, not all 16,000: what admission
      // counts as the shard's backlog until the first token.
      expect(result).toMatchObject({
        decision: { reason: 'affinity', scores: { predicted: { prefillMs: 800 } } },
      });
    });
  });
});
