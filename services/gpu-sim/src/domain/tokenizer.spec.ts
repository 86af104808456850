import {
  applyChatTemplate,
  chatPromptTokens,
  countChatPromptTokens,
  type ChatTurn,
} from './chat-template.js';
import { FIRST_TEXT_TOKEN_ID, countTokens, tokenIdOf, tokenPieces, tokenize } from './tokenizer.js';

describe('tokenizer', () => {
  it.each([
    ['', []],
    ['hello', ['hello']],
    ['Hello, world!', ['Hello', ',', ' world', '!']],
    ['  two spaces', [' ', ' two', ' spaces']],
    ['line\n\nbreak', ['line', '\n\n', 'break']],
    ['tail  ', ['tail', '  ']],
    ['internationalization', ['internatio', 'nalization']],
    ['year 20251', ['year', ' 202', '51']],
    ['café 😀', ['caf', 'é', ' 😀']],
  ])('splits %j into %j', (text, pieces) => {
    expect(tokenPieces(text)).toEqual(pieces);
    expect(countTokens(text)).toBe(pieces.length);
  });

  it('is lossless: the pieces concatenate to the input', () => {
    const text = 'Mixed:\tcase, digits 12345 and   spaces\n end. ¿Qué tal?  ';
    expect(tokenPieces(text).join('')).toBe(text);
  });

  it('gives equal ids to equal pieces and reserves the low ids for the template', () => {
    const ids = tokenize('a the cat the hat');
    expect(ids[1]).toBe(ids[3]);
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids).toHaveLength(5);
    expect(Math.min(...ids)).toBeGreaterThanOrEqual(FIRST_TEXT_TOKEN_ID);
    expect(tokenIdOf(' the')).toBe(ids[3]);
  });

  it('counts English prose at roughly 1.2–1.4 tokens per word', () => {
    const prose =
      'Thank you for contacting support. Your order shipped yesterday and should arrive within three business days; ' +
      'you can track it from the link in your confirmation email.';
    const words = prose.split(/\s+/).length;
    expect(countTokens(prose) / words).toBeGreaterThan(1.1);
    expect(countTokens(prose) / words).toBeLessThan(1.5);
  });
});

describe('chat template', () => {
  const conversation: ChatTurn[] = [
    { role: 'system', content: 'You are a helpful support agent.' },
    { role: 'user', content: 'Where is my order?' },
  ];

  it('costs 1 + 5 per message + 4 for the generation prompt, plus the content tokens', () => {
    const content = conversation.reduce((n, m) => n + countTokens(m.content), 0);
    expect(countChatPromptTokens(conversation)).toBe(1 + 5 * 2 + 4 + content);
    expect(chatPromptTokens(conversation)).toHaveLength(countChatPromptTokens(conversation));
  });

  it("makes a turn's prompt a prefix of the next turn's (what prefix caching relies on)", () => {
    const first = chatPromptTokens(conversation);
    const second = chatPromptTokens([
      ...conversation,
      { role: 'assistant', content: 'It shipped yesterday.' },
      { role: 'user', content: 'Thanks!' },
    ]);
    expect(second.slice(0, first.length)).toEqual(first);
  });

  it('leaves a trailing assistant message open so it can be continued', () => {
    const messages: ChatTurn[] = [...conversation, { role: 'assistant', content: 'It shipped' }];
    const open = chatPromptTokens(messages);
    const closed = applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(open).toEqual(closed.slice(0, open.length));
    expect(countChatPromptTokens(messages)).toBe(open.length);
  });
});
