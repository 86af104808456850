import { started, userTurn } from '../../domain/conversation.fixtures.js';
import { replay, type ConversationDetails } from '../../domain/conversation.state.js';
import { StateCache } from './state-cache.js';

const stateAt = (turns: number, id = 'conv-1'): ConversationDetails => {
  const state = replay([
    started(),
    ...Array.from({ length: turns }, (_, index) => userTurn(`t${index}`)),
  ]);
  if (state.status === 'absent') throw new Error('not started');
  return { ...state, conversationId: id };
};

describe('StateCache', () => {
  it('answers only for the exact version', () => {
    const cache = new StateCache(10);
    cache.set(stateAt(2));
    expect(cache.get('conv-1', 3)?.version).toBe(3);
    expect(cache.get('conv-1', 4)).toBeUndefined();
  });

  it('never replaces a newer state with an older one', () => {
    const cache = new StateCache(10);
    cache.set(stateAt(3));
    cache.set(stateAt(1));
    expect(cache.peek('conv-1')?.version).toBe(4);
  });

  it('evicts the least recently used beyond its capacity', () => {
    const cache = new StateCache(2);
    cache.set(stateAt(0, 'a'));
    cache.set(stateAt(0, 'b'));
    cache.get('a', 1);
    cache.set(stateAt(0, 'c'));
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBeDefined();
  });
});
