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
});
