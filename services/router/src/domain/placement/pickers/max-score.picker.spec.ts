import { aShard } from '../../testing/factories.js';
import { aContext } from '../../testing/context.js';
import { maxScorePicker } from './max-score.picker.js';

describe('max-score picker', () => {
  it('picks the highest score', () => {
    const scored = [
      { shard: aShard({ id: 'a' }), score: 0.2 },
      { shard: aShard({ id: 'b' }), score: 0.9 },
      { shard: aShard({ id: 'c' }), score: 0.5 },
    ];
    expect(maxScorePicker.pick(scored, aContext())?.shard.id).toBe('b');
  });

  it('breaks ties the same way every time for a conversation, whatever the order', () => {
    const tied = ['a', 'b', 'c', 'd'].map((id) => ({ shard: aShard({ id }), score: 0.5 }));
    const context = aContext({ conversationId: 'c-42' });

    const first = maxScorePicker.pick(tied, context)?.shard.id;

    expect(maxScorePicker.pick([...tied].reverse(), context)?.shard.id).toBe(first);
    expect(maxScorePicker.pick([tied[2]!, tied[0]!, tied[3]!, tied[1]!], context)?.shard.id).toBe(
      first,
    );
  });

  it('spreads ties across conversations instead of herding onto one shard', () => {
    const tied = Array.from({ length: 8 }, (_, i) => ({
      shard: aShard({ id: `s${i}` }),
      score: 1,
    }));
    const chosen = new Set<string>();
    for (let c = 0; c < 200; c++) {
      chosen.add(
        maxScorePicker.pick(tied, aContext({ conversationId: `conversation-${c}` }))!.shard.id,
      );
    }
    expect(chosen.size).toBe(8);
  });

  it('picks nothing from nothing', () => {
    expect(maxScorePicker.pick([], aContext())).toBeUndefined();
  });

  it('picks the same when the candidates below cannotPickBelow are left out, near-ties included', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const ids = Array.from({ length: 24 }, (_, i) => aShard({ id: `s${i}` }));
    for (let round = 0; round < 2_000; round++) {
      // Scores on a coarse grid plus jitter around the tie margin, so ties and near-ties are common.
      const scored = ids.map((shard) => ({
        shard,
        score: Math.floor(next() * 4) / 4 + (next() - 0.5) * 4e-9,
      }));
      const context = aContext({ conversationId: `c-${round}` });
      const kept: typeof scored = [];
      for (const candidate of scored) {
        if (kept.length > 0 && candidate.score < maxScorePicker.cannotPickBelow!(kept)) continue;
        kept.push(candidate);
      }

      expect(maxScorePicker.pick(kept, context)).toBe(maxScorePicker.pick(scored, context));
    }
  });
});
