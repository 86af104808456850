import { seededRandom } from '../random.js';
import { DEFAULT_LATENCY_MODEL, predictLatency } from '../spill/latency-model.js';
import { aRequest, aShard } from '../testing/factories.js';
import { DecisionContext, NO_QUEUES, type QueueDepth } from './placement-context.js';
import { PrefixMatch } from './prefix-match.js';

describe('decision context', () => {
  const prompt = Array.from({ length: 400 }, (_, i) => 5_000 + i);
  const queues: QueueDepth = { queuedAhead: (shardId) => (shardId.endsWith('7') ? 3 : 0) };

  function randomShards(count: number) {
    const random = seededRandom(5);
    return Array.from({ length: count }, (_, i) =>
      aShard({
        id: `shard-${i}`,
        blocks: prompt.slice(0, Math.floor(random.next() * prompt.length)),
        capacity: { maxInFlight: 4, kvCapacityTokens: 1_000_000, prefillTokensPerSecond: 9_000 },
        load: {
          inFlight: Math.floor(random.next() * 6),
          running: Math.floor(random.next() * 5),
          waiting: Math.floor(random.next() * 8),
          ttftMsP50: random.next() * 500,
          itlMsP50: random.next() * 30,
        },
      }),
    );
  }

  function aDecisionContext(match: PrefixMatch) {
    const request = aRequest({ promptBlocks: prompt, promptTokens: prompt.length * 16 });
    return new DecisionContext(request, 0, 2_000, match, DEFAULT_LATENCY_MODEL, queues);
  }

  it('predicts what the latency model predicts for the shard, asked in any order', () => {
    const match = new PrefixMatch(prompt);
    const context = aDecisionContext(match);
    const shards = randomShards(12);

    for (const shard of [...shards, ...[...shards].reverse(), shards[3]!, shards[3]!]) {
      expect(context.predictedLatency(shard)).toEqual(
        predictLatency(
          shard,
          {
            promptTokens: prompt.length * 16,
            cachedBlocks: match.blocksOn(shard),
            queuedAhead: queues.queuedAhead(shard.id, 'standard'),
          },
          DEFAULT_LATENCY_MODEL,
        ),
      );
    }
  });

  it('bounds the first token from below, before and after a walk', () => {
    const shards = randomShards(30);
    const unwalked = aDecisionContext(new PrefixMatch(prompt));
    const walkedMatch = new PrefixMatch(prompt);
    walkedMatch.defer(399);
    walkedMatch.defer(100);
    walkedMatch.record('shard-4', 250);
    const walked = aDecisionContext(walkedMatch);

    for (const context of [unwalked, walked]) {
      for (const shard of shards) {
        expect(context.leastTtftMs(shard)).toBeLessThanOrEqual(
          context.predictedLatency(shard).ttftMs,
        );
      }
    }
  });

  it('defaults to no router queue', () => {
    const context = new DecisionContext(
      aRequest(),
      0,
      2_000,
      new PrefixMatch([]),
      DEFAULT_LATENCY_MODEL,
      NO_QUEUES,
    );
    expect(context.predictedLatency(aShard()).queueWaitMs).toBe(0);
  });
});
