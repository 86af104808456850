import { rememberPrefixBlocks } from './prefix-blocks.js';
import { turnPrompt } from './turn-prompt.js';

describe('turnPrompt', () => {
  const messages = [{ role: 'user', content: 'Tell me a story' }] as const;

  it('sends a fresh turn as is', () => {
    expect(turnPrompt(messages, '')).toEqual({ messages, continueFinalMessage: false });
  });

  it('sends a resumed turn with the streamed text, verbatim, as the open assistant message', () => {
    expect(turnPrompt(messages, 'Once upon a ')).toEqual({
      messages: [...messages, { role: 'assistant', content: 'Once upon a ' }],
      continueFinalMessage: true,
    });
  });
});

describe('rememberPrefixBlocks', () => {
  it('keeps the latest prompt deepest block first, without duplicates, within the bound', () => {
    expect(rememberPrefixBlocks([9, 8, 2], [1, 2, 3], 4)).toEqual([3, 2, 1, 9]);
  });
});
