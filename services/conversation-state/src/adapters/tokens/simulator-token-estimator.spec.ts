import { assembleContext } from '../../domain/context-window.js';
import { completed, started, userTurn } from '../../domain/conversation.fixtures.js';
import { replay } from '../../domain/conversation.state.js';
import { countTokens, simulatorTokenEstimator } from './simulator-token-estimator.js';

// Counts produced by gpu-sim's countTokens / countChatPromptTokens for the same inputs.
describe('simulatorTokenEstimator', () => {
  it.each([
    ['', 0],
    ['Hello world', 2],
    ['internationalization', 2],
    ['12345', 2],
    ['Hi, there!', 4],
    ['a\n\nb', 3],
    ['two  spaces', 3],
    ['héllo', 3],
    ['emoji 🙂', 2],
  ])('counts %j as %i tokens', (text, tokens) => {
    expect(countTokens(text)).toBe(tokens);
  });

  it('adds the chat template: 1 per prompt, 5 per message, 4 for the generation header', () => {
    const state = replay([started('Be brief.'), userTurn('t1', 'Hello world')]);
    if (state.status === 'absent') throw new Error('not started');
    // gpu-sim: countChatPromptTokens([{system 'Be brief.'}, {user 'Hello world'}]) = 1 + (5+3) + (5+2) + 4
    expect(assembleContext(state, 1_000, simulatorTokenEstimator()).estimatedTokens).toBe(20);
  });

  it('counts an assistant-final context as a continuation (no generation header, open turn)', () => {
    const state = replay([started(''), userTurn('t1', 'hi'), completed('t1', 'hello there')]);
    if (state.status === 'absent') throw new Error('not started');
    // 1 + (5+1) + (5+2) - 1
    expect(assembleContext(state, 1_000, simulatorTokenEstimator()).estimatedTokens).toBe(13);
  });
});
