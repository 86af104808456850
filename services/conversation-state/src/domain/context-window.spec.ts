import { assembleContext, historyOf, type TokenEstimator } from './context-window.js';
import { completed, failed, started, userTurn } from './conversation.fixtures.js';
import type { ConversationEvent } from './conversation.events.js';
import { replay, type ConversationDetails } from './conversation.state.js';

// One token per character keeps the arithmetic in the assertions readable.
const perCharacter: TokenEstimator = {
  countText: (text) => text.length,
  tokensPerMessage: 5,
  tokensPerPrompt: 1,
  generationPromptTokens: 4,
};

function conversation(events: readonly ConversationEvent[]): ConversationDetails {
  const state = replay(events);
  if (state.status === 'absent') throw new Error('not started');
  return state;
}

describe('assembleContext', () => {
  const history = conversation([
    started('SYS'),
    userTurn('t1', 'aaaa'),
    completed('t1', 'bbbb'),
    userTurn('t2', 'cccc'),
    completed('t2', 'dddd'),
    userTurn('t3', 'eeee'),
  ]);
  // system 5+3, five messages of 5+4 each, prompt 1, generation 4.
  const full = 8 + 5 * 9 + 1 + 4;

  it('keeps everything when it fits', () => {
    const window = assembleContext(history, full, perCharacter);
    expect(window).toMatchObject({
      estimatedTokens: full,
      droppedMessages: 0,
      droppedTurns: 0,
      withinBudget: true,
    });
    expect(window.messages.map((m) => m.content)).toEqual([
      'SYS',
      'aaaa',
      'bbbb',
      'cccc',
      'dddd',
      'eeee',
    ]);
  });

  it('drops whole turns, oldest first, keeps the system prompt and records the cut', () => {
    const window = assembleContext(history, full - 1, perCharacter);
    expect(window.messages.map((m) => m.content)).toEqual(['SYS', 'cccc', 'dddd', 'eeee']);
    expect(window).toMatchObject({
      estimatedTokens: full - 18,
      droppedMessages: 2,
      droppedTurns: 1,
      withinBudget: true,
    });
  });

  it('always keeps the latest turn, and says when even that does not fit', () => {
    const window = assembleContext(history, 10, perCharacter);
    expect(window.messages.map((m) => m.content)).toEqual(['SYS', 'eeee']);
    expect(window).toMatchObject({
      droppedMessages: 4,
      droppedTurns: 2,
      withinBudget: false,
      estimatedTokens: 8 + 9 + 5,
    });
  });

  it('leaves failed turns out of the history', () => {
    const withFailure = conversation([
      started('SYS'),
      userTurn('t1', 'lost'),
      failed('t1'),
      userTurn('t2', 'again'),
    ]);
    expect(historyOf(withFailure).map((m) => m.content)).toEqual(['SYS', 'again']);
  });

  it('is deterministic', () => {
    expect(assembleContext(history, 40, perCharacter)).toEqual(
      assembleContext(history, 40, perCharacter),
    );
  });
});
