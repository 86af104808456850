import { seededRandom } from '../random.js';
import { aDirectory, aRequest, aShard, type ShardSpec } from '../testing/factories.js';
import { DEFAULT_PLACEMENT_CONFIG, type PlacementConfig } from './placement-config.js';
import type { QueueDepth } from './placement-context.js';
import { PlacementPipeline } from './placement-pipeline.js';
import type { PlacementDecision } from './placement-decision.js';

const capacity = { maxInFlight: 4, kvCapacityTokens: 1_000_000, prefillTokensPerSecond: 10_000 };
const shard = (spec: ShardSpec) => aShard({ capacity, ...spec });
// Every slot busy and 5 s of prefill ahead: well past a 2 s budget.
const swamped = {
  inFlight: 4,
  running: 4,
  waiting: 12,
  ttftMsP50: 200,
  itlMsP50: 4,
  prefillBacklogMs: 5_000,
};

function pipeline(overrides: Partial<PlacementConfig> = {}): PlacementPipeline {
  return new PlacementPipeline({ ...DEFAULT_PLACEMENT_CONFIG, ...overrides }, seededRandom(1));
}

function summary(decision: PlacementDecision) {
  return decision.kind === 'placed'
    ? { shard: decision.shard.id, reason: decision.reason, scores: decision.scores }
    : decision;
}

function placed(decision: PlacementDecision) {
  if (decision.kind !== 'placed') throw new Error(`expected a placement, got ${decision.kind}`);
  return decision;
}

describe('placement pipeline', () => {
  const conversation = [101, 102, 103, 104, 105, 106];

  describe('given a conversation pinned to a healthy shard', () => {
    it('keeps the turn there (affinity) while it fits the budget, even if another shard is idler', () => {
      const shards = aDirectory(
        shard({ id: 'home', blocks: conversation, load: { inFlight: 2, running: 2 } }),
        shard({ id: 'idle' }),
      );

      const decision = placed(
        pipeline().decide(
          aRequest({ assignedShardId: 'home', promptBlocks: conversation }),
          shards,
          0,
        ),
      );

      expect(decision.reason).toBe('affinity');
      expect(decision.shard.id).toBe('home');
      expect(decision.previousShardId).toBeUndefined();
    });

    it('spills to another shard when its own would break the budget and the other would not', () => {
      const shards = aDirectory(
        shard({ id: 'home', blocks: conversation, load: swamped }),
        shard({ id: 'spare' }),
      );

      const decision = placed(
        pipeline().decide(
          aRequest({ assignedShardId: 'home', promptBlocks: conversation }),
          shards,
          0,
        ),
      );

      expect(decision).toMatchObject({ reason: 'spill', previousShardId: 'home' });
      expect(decision.shard.id).toBe('spare');
      expect(decision.scores.predicted.ttftMs).toBeLessThanOrEqual(decision.scores.budgetMs);
    });

    it('counts the context the router knows the shard holds, which its report is too short to list', () => {
      // 16,000 tokens at 10,000 tokens/s behind 1 s of prefill: 2.6 s from the report alone, past
      // the 2 s budget; with 999 of the 1,000 blocks known to be there, 1 s and a little.
      const long = Array.from({ length: 1_000 }, (_, i) => 5_000 + i);
      const shards = aDirectory(
        shard({ id: 'home', load: { inFlight: 1, running: 1, prefillBacklogMs: 1_000 } }),
        shard({ id: 'spare' }),
      );
      const request = aRequest({
        assignedShardId: 'home',
        promptBlocks: long,
        promptTokens: 16_000,
      });

      const fromReport = placed(pipeline().decide(request, shards, 0));
      const known = placed(pipeline().decide({ ...request, assignedCachedBlocks: 999 }, shards, 0));

      expect(fromReport).toMatchObject({ reason: 'spill', shard: { id: 'spare' } });
      expect(fromReport.scores.predictedOnLeft?.prefillMs).toBe(1_600);
      expect(known).toMatchObject({ reason: 'affinity', shard: { id: 'home' } });
      expect(known.scores.predicted).toEqual({
        queueWaitMs: 1_000,
        prefillMs: 1.6,
        ttftMs: 1_001.6,
      });
    });

    it('spills to the shard that holds more of the prompt, in the caller zone first', () => {
      const shards = aDirectory(
        shard({ id: 'home', zone: 'east', blocks: conversation, load: swamped }),
        shard({ id: 'far-warm', zone: 'west', blocks: conversation.slice(0, 5) }),
        shard({ id: 'near-cold', zone: 'east' }),
        shard({ id: 'near-warm', zone: 'east', blocks: conversation.slice(0, 4) }),
      );

      const decision = placed(
        pipeline().decide(
          aRequest({ assignedShardId: 'home', promptBlocks: conversation, zone: 'east' }),
          shards,
          0,
        ),
      );

      expect(decision.reason).toBe('spill');
      expect(decision.shard.id).toBe('near-warm');
    });

    it('spills to another zone when no shard in the caller zone would make the budget', () => {
      const shards = aDirectory(
        shard({ id: 'home', zone: 'east', load: swamped }),
        shard({ id: 'near-swamped', zone: 'east', load: swamped }),
        ...Array.from({ length: 30 }, (_, i) =>
          shard({ id: `near-${i}`, zone: 'east', load: swamped }),
        ),
        shard({ id: 'far', zone: 'west' }),
      );

      const decision = placed(
        pipeline().decide(aRequest({ assignedShardId: 'home', zone: 'east' }), shards, 0),
      );

      expect(decision).toMatchObject({ reason: 'spill', shard: { id: 'far' } });
    });

    it('stays (affinity) when every other shard would break the budget too', () => {
      const shards = aDirectory(
        shard({ id: 'home', blocks: conversation, load: swamped }),
        shard({ id: 'also-swamped', load: swamped }),
      );

      const decision = placed(
        pipeline().decide(
          aRequest({ assignedShardId: 'home', promptBlocks: conversation }),
          shards,
          0,
        ),
      );

      expect(decision.reason).toBe('affinity');
      expect(decision.shard.id).toBe('home');
    });

    describe('when the prompt alone takes longer to prefill than the budget at the default rate', () => {
      // 1,875 blocks of 16 tokens: 3 s of prefill at 10,000 tokens a second, over a 2 s budget.
      const long = Array.from({ length: 1_875 }, (_, i) => 5_000 + i);
      const longTurn = aRequest({
        assignedShardId: 'home',
        promptBlocks: long,
        promptTokens: 30_000,
      });

      it('stays (affinity) without pricing a single other shard', () => {
        const shards = aDirectory(
          shard({ id: 'home', blocks: long, load: swamped }),
          ...Array.from({ length: 20 }, (_, i) => shard({ id: `idle-${i}` })),
        );
        const asked: string[] = [];
        const queues: QueueDepth = {
          queuedAhead: (shardId) => {
            asked.push(shardId);
            return 0;
          },
        };

        const decision = placed(pipeline().decide(longTurn, shards, 0, queues));

        expect(decision).toMatchObject({ reason: 'affinity', shard: { id: 'home' } });
        expect(new Set(asked)).toEqual(new Set(['home']));
      });

      it('still spills to a shard that holds enough of the prompt to make the budget', () => {
        const shards = aDirectory(
          shard({ id: 'home', blocks: long, load: swamped }),
          shard({ id: 'cold' }),
          shard({ id: 'warm', blocks: long.slice(0, 1_500) }),
        );

        expect(placed(pipeline().decide(longTurn, shards, 0))).toMatchObject({
          reason: 'spill',
          shard: { id: 'warm' },
        });
      });

      it('still spills to a shard that prefills fast enough to make the budget', () => {
        const shards = aDirectory(
          shard({ id: 'home', blocks: long, load: swamped }),
          shard({ id: 'cold' }),
          aShard({
            id: 'fast',
            capacity: { ...capacity, prefillTokensPerSecond: 40_000 },
          }),
        );

        expect(placed(pipeline().decide(longTurn, shards, 0))).toMatchObject({
          reason: 'spill',
          shard: { id: 'fast' },
        });
      });
    });

    it('does not spill a batch turn: its tier would rather wait than lose its cached prefix', () => {
      const shards = aDirectory(shard({ id: 'home', load: swamped }), shard({ id: 'spare' }));

      const decision = placed(
        pipeline().decide(
          aRequest({ assignedShardId: 'home', priority: 'batch', ttftBudgetMs: 100 }),
          shards,
          0,
        ),
      );

      expect(decision.reason).toBe('affinity');
    });

    it('counts the router queue ahead of the turn on that shard in the prediction', () => {
      const shards = aDirectory(
        shard({ id: 'home', load: { inFlight: 4, running: 4 } }),
        shard({ id: 'spare' }),
      );
      const request = aRequest({ assignedShardId: 'home', ttftBudgetMs: 1_500 });

      expect(placed(pipeline().decide(request, shards, 0)).reason).toBe('affinity');
      const queues = { queuedAhead: (id: string) => (id === 'home' ? 10 : 0) };
      expect(placed(pipeline().decide(request, shards, 0, queues)).reason).toBe('spill');
    });

    it('uses a tighter budget for a higher tier', () => {
      // A second of prefill ahead: within 2 s, not within 500 ms.
      const busy = {
        inFlight: 3,
        running: 3,
        ttftMsP50: 200,
        itlMsP50: 4,
        prefillBacklogMs: 1_000,
      };
      const shards = aDirectory(shard({ id: 'home', load: busy }), shard({ id: 'spare' }));

      const standard = pipeline().decide(
        aRequest({ assignedShardId: 'home', priority: 'standard' }),
        shards,
        0,
      );
      const critical = pipeline().decide(
        aRequest({ assignedShardId: 'home', priority: 'critical' }),
        shards,
        0,
      );

      expect(placed(standard).reason).toBe('affinity');
      expect(placed(critical).reason).toBe('spill');
    });
  });

  describe('given a conversation whose shard cannot take the turn', () => {
    it.each([
      ['failed', 'failover'],
      ['removed', 'failover'],
      ['draining', 'migration'],
      ['starting', 'migration'],
    ] as const)('moves it off a %s shard (%s)', (state, reason) => {
      const shards = aDirectory(shard({ id: 'home', state }), shard({ id: 'other' }));

      const decision = placed(pipeline().decide(aRequest({ assignedShardId: 'home' }), shards, 0));

      expect(decision).toMatchObject({ reason, previousShardId: 'home' });
      expect(decision.shard.id).toBe('other');
    });

    it('fails over when the shard vanished from the registry', () => {
      const decision = placed(
        pipeline().decide(
          aRequest({ assignedShardId: 'gone' }),
          aDirectory(shard({ id: 'other' })),
          0,
        ),
      );
      expect(decision.reason).toBe('failover');
    });

    it('fails over, never back to it, when the shard failed this turn before the registry noticed', () => {
      const shards = aDirectory(
        shard({ id: 'home', blocks: conversation }),
        shard({ id: 'other' }),
      );

      const decision = placed(
        pipeline().decide(
          aRequest({
            assignedShardId: 'home',
            promptBlocks: conversation,
            excludedShardIds: ['home'],
          }),
          shards,
          0,
        ),
      );

      expect(decision).toMatchObject({ reason: 'failover' });
      expect(decision.shard.id).toBe('other');
    });

    it('migrates a conversation whose pool no longer serves its model (a rollback)', () => {
      const shards = aDirectory(
        shard({ id: 'canary', pool: 'v2' }),
        shard({ id: 'stable', pool: 'v1' }),
      );

      const decision = placed(
        pipeline().decide(aRequest({ assignedShardId: 'canary', pools: ['v1'] }), shards, 0),
      );

      expect(decision).toMatchObject({ reason: 'migration', previousShardId: 'canary' });
      expect(decision.shard.id).toBe('stable');
    });

    it('reports migration when the saga asks, whatever the shard state', () => {
      const shards = aDirectory(shard({ id: 'home', state: 'failed' }), shard({ id: 'other' }));
      const request = aRequest({ assignedShardId: 'home', purpose: 'migration' });
      expect(placed(pipeline().decide(request, shards, 0)).reason).toBe('migration');
    });
  });

  describe('given a new conversation', () => {
    it('places it on the shard already holding its prompt prefix', () => {
      const shared = [7, 8, 9, 10];
      const shards = aDirectory(
        shard({ id: 'cold' }),
        shard({ id: 'warm', blocks: shared }),
        shard({ id: 'cold-2' }),
      );

      const decision = placed(
        pipeline().decide(aRequest({ promptBlocks: [...shared, 11] }), shards, 0),
      );

      expect(decision.reason).toBe('new');
      expect(decision.shard.id).toBe('warm');
      expect(decision.scores.byScorer['prefix-overlap']).toBe(4 / 5);
    });

    it('places it on the least loaded shard when no shard holds its prefix', () => {
      const shards = aDirectory(
        shard({ id: 'busy', load: { inFlight: 3, running: 3, kvCacheUsage: 0.7 } }),
        shard({ id: 'quiet', load: { inFlight: 1, running: 1, kvCacheUsage: 0.1 } }),
      );
      expect(placed(pipeline().decide(aRequest(), shards, 0)).shard.id).toBe('quiet');
    });

    it('never places it on an unhealthy shard or outside its pools', () => {
      const shards = aDirectory(
        shard({ id: 'failed', state: 'failed' }),
        shard({ id: 'draining', state: 'draining' }),
        shard({ id: 'other-pool', pool: 'pool-b' }),
        shard({ id: 'ok', load: { inFlight: 3, running: 3 } }),
      );
      expect(placed(pipeline().decide(aRequest({ pools: ['pool-a'] }), shards, 0)).shard.id).toBe(
        'ok',
      );
    });

    it('prefers the caller zone', () => {
      const shards = aDirectory(
        shard({ id: 'west', zone: 'west' }),
        shard({ id: 'east', zone: 'east', load: { running: 2, inFlight: 2 } }),
      );
      expect(placed(pipeline().decide(aRequest({ zone: 'east' }), shards, 0)).shard.id).toBe(
        'east',
      );
    });

    it('is unplaceable when no shard of its pools is ready', () => {
      const shards = aDirectory(
        shard({ id: 'failed', state: 'failed' }),
        shard({ id: 'elsewhere', pool: 'pool-b' }),
      );
      expect(pipeline().decide(aRequest({ pools: ['pool-a'] }), shards, 0)).toMatchObject({
        kind: 'unplaceable',
        reason: 'no-eligible-shard',
      });
    });
  });

  describe('configuration', () => {
    it('runs only the configured scorers and reports each one for tracing', () => {
      const decision = placed(
        pipeline({ scorers: { 'least-load': 1, affinity: 0 } }).decide(
          aRequest(),
          aDirectory(shard({ id: 'a' })),
          0,
        ),
      );
      expect(Object.keys(decision.scores.byScorer)).toEqual(['least-load']);
      expect(decision.scores.total).toBe(1);
      expect(decision.scores.candidates).toBe(1);
    });

    it('places the same as scoring every shard when the pool is small enough to sample whole', () => {
      const shardsSpec = Array.from({ length: 12 }, (_, i) =>
        shard({
          id: `s${i}`,
          zone: i % 2 ? 'east' : 'west',
          load: { running: i % 4, inFlight: i % 4, kvCacheUsage: (i % 5) / 10 },
        }),
      );
      const shards = aDirectory(...shardsSpec);
      for (let c = 0; c < 20; c++) {
        const request = aRequest({ conversationId: `c${c}`, zone: c % 2 ? 'east' : 'west' });
        const sampled = placed(pipeline().decide(request, shards, 0)).shard.id;
        const exhaustive = placed(
          pipeline({ candidates: { mode: 'all' } }).decide(request, shards, 0),
        ).shard.id;
        expect(sampled).toBe(exhaustive);
      }
    });

    it('scores a bounded number of shards in a large pool', () => {
      const shards = aDirectory(...Array.from({ length: 500 }, (_, i) => shard({ id: `s${i}` })));
      const decision = placed(pipeline().decide(aRequest(), shards, 0));
      expect(decision.scores.candidates).toBeLessThanOrEqual(16);
    });

    it('finds the warm shard through the block index in a large pool', () => {
      const prompt = [501, 502, 503, 504];
      const shards = aDirectory(
        ...Array.from({ length: 500 }, (_, i) => shard({ id: `s${i}`, blocks: [501] })),
        shard({ id: 'warm', blocks: prompt }),
      );
      expect(
        placed(pipeline().decide(aRequest({ promptBlocks: prompt }), shards, 0)).shard.id,
      ).toBe('warm');
    });
  });

  describe('from one decision to the next (one pipeline reuses its scratch)', () => {
    it('forgets the exclusions and pools of the turn before', () => {
      const shards = aDirectory(
        shard({ id: 'only-a', pool: 'pool-a' }),
        shard({ id: 'only-b', pool: 'pool-b' }),
      );
      const reused = pipeline();

      const first = reused.decide(
        aRequest({ pools: ['pool-a'], excludedShardIds: ['only-a'] }),
        shards,
        0,
      );
      const second = placed(reused.decide(aRequest({ pools: ['pool-a'] }), shards, 0));
      const third = placed(reused.decide(aRequest({ pools: ['pool-b'] }), shards, 0));

      expect(first.kind).toBe('unplaceable');
      expect(second.shard.id).toBe('only-a');
      expect(third.shard.id).toBe('only-b');
    });

    it('decides a turn the same whatever was decided before it', () => {
      const prompt = [601, 602, 603];
      // Zones small enough to be taken whole, so that no random draw differs between pipelines.
      const shards = aDirectory(
        ...Array.from({ length: 24 }, (_, i) =>
          shard({
            id: `s${i}`,
            zone: i % 2 ? 'east' : 'west',
            blocks: i % 7 === 0 ? prompt.slice(0, 1 + (i % 3)) : [],
            load: i % 5 === 0 ? swamped : { inFlight: i % 4, running: i % 3 },
          }),
        ),
      );
      const turns = Array.from({ length: 30 }, (_, i) =>
        aRequest({
          conversationId: `c${i}`,
          assignedShardId: i % 3 === 0 ? `s${(i * 5) % 24}` : undefined,
          promptBlocks: prompt,
          zone: i % 2 ? 'east' : 'west',
          excludedShardIds: i % 4 === 0 ? [`s${i}`] : undefined,
        }),
      );
      const reused = pipeline();
      const inSequence = turns.map((turn) => summary(reused.decide(turn, shards, 0)));
      const alone = turns.map((turn) => summary(pipeline().decide(turn, shards, 0)));

      expect(inSequence).toEqual(alone);
    });
  });

  it("reports the chosen shard's scores in full when serialized", () => {
    const shards = aDirectory(shard({ id: 'a' }), shard({ id: 'b', load: { inFlight: 3 } }));
    const decision = placed(pipeline().decide(aRequest({ promptBlocks: [1, 2] }), shards, 0));

    const copied = JSON.parse(JSON.stringify(decision.scores)) as typeof decision.scores;

    expect(copied.total).toBe(decision.scores.total);
    expect(copied.byScorer).toEqual(decision.scores.byScorer);
    expect(Object.keys(copied.byScorer)).toEqual(Object.keys(DEFAULT_PLACEMENT_CONFIG.scorers));
  });
});
