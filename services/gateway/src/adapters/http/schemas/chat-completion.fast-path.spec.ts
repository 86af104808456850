import { parseCommonChatCompletion } from './chat-completion.fast-path.js';
import { chatCompletionRequestSchema } from './chat-completion.schema.js';
import { type RequestLimits } from './common.schema.js';

const limits: RequestLimits = { maxMessages: 3, maxMessageChars: 20, maxCompletionTokens: 100 };
const schema = chatCompletionRequestSchema(limits);

const user = (content: unknown) => ({ role: 'user', content });
const base = () => ({ model: 'spillway-8b', messages: [user('Where is my order?')] });

/** What the schema makes of a body: its output, or undefined when it refuses it. */
function bySchema(body: unknown): unknown {
  const result = schema.safeParse(body);
  return result.success ? result.data : undefined;
}

/** Values each field may take in the cases below: valid, invalid and at the edges. */
const CANDIDATES: Record<string, readonly unknown[]> = {
  model: ['m', '', 'x'.repeat(256), 'x'.repeat(257), 7, null, ['m']],
  messages: [
    [],
    [user('hi'), user('there'), user('you')],
    [user('a'), user('b'), user('c'), user('d')],
    [user('   ')],
    [{ role: 'assistant', content: '' }],
    [{ role: 'developer', content: 'Be brief.' }, user('hi')],
    [{ role: 'system', content: 'Be brief.', name: 'ops_1' }],
    [{ role: 'user', content: 'hi', name: 'has space' }],
    [{ role: 'user', content: 'hi', name: 3 }],
    [{ role: 'tool', content: 'hi' }],
    [{ role: 'user' }],
    [{ content: 'hi' }],
    [{ role: 'user', content: 'hi', extra: 1 }],
    [user('x'.repeat(20))],
    [user('x'.repeat(21))],
    [user('\ud800 lone surrogate')],
    [user('😀 paired surrogates')],
    [user([{ type: 'text', text: 'parts' }])],
    [user(null)],
    [null],
    [['user', 'hi']],
    'hi',
    null,
  ],
  temperature: [0, 2, 0.7, -0.1, 2.1, '1', null, true],
  top_p: [0, 1, 0.5, 1.5, null, 'x'],
  max_tokens: [1, 100, 0, 101, 1.5, -1, null, '16', 2 ** 60],
  max_completion_tokens: [1, 16, 100, 101, null],
  stop: [
    '',
    'END',
    'x'.repeat(257),
    [],
    ['a', 'b'],
    ['a', '', 'c'],
    ['a', 'b', 'c', 'd', 'e'],
    [3],
    null,
    5,
  ],
  seed: [0, 42, -1, 1.5, null, 'x'],
  presence_penalty: [-2, 2, 2.5, null],
  frequency_penalty: [-2, 0, -2.5, null],
  stream: [true, false, null, 'true', 1],
  stream_options: [
    {},
    { include_usage: true },
    { include_usage: null },
    { include_usage: 1 },
    { other: true },
    [],
    null,
    'x',
  ],
  user: ['', 'u-1', 'x'.repeat(257), null, 3],
  n: [1, 2, null],
  logprobs: [false, true],
  tools: [[], [{ type: 'function' }]],
  unknown_field: [1],
};

describe('parseCommonChatCompletion', () => {
  it('gives exactly what the schema gives for the common request, key order included', () => {
    const body = {
      messages: [{ role: 'developer', content: 'Be brief.' }, user('Where is my order?')],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.7,
      max_tokens: 16,
      model: 'spillway-8b',
      user: 'end-user-1',
    };
    const fast = parseCommonChatCompletion(body, limits);
    expect(fast).toBeDefined();
    expect(JSON.stringify(fast)).toBe(JSON.stringify(bySchema(body)));
    expect(fast?.messages[0]?.role).toBe('system');
  });

  it('never accepts what the schema refuses, and agrees with it on what it accepts', () => {
    let accepted = 0;
    const check = (body: unknown): void => {
      const fast = parseCommonChatCompletion(body, limits);
      if (fast === undefined) return;
      accepted++;
      expect({ body, parsed: JSON.stringify(fast) }).toEqual({
        body,
        parsed: JSON.stringify(bySchema(body)),
      });
    };
    for (const [field, values] of Object.entries(CANDIDATES)) {
      for (const value of values) {
        check({ ...base(), [field]: value });
        // Pairs with the fields whose validity depends on another one.
        check({ ...base(), stream: true, [field]: value });
        check({ ...base(), max_tokens: 16, [field]: value });
      }
    }
    // The fast path must have taken a good share of them, or this test checks nothing.
    expect(accepted).toBeGreaterThan(60);
  });

  it.each([
    ['a body that is not an object', ['model']],
    ['an empty body', {}],
    ['a missing model', { messages: [user('hi')] }],
    ['missing messages', { model: 'm' }],
    [
      'content parts (left to the schema)',
      { ...base(), messages: [user([{ type: 'text', text: 'hi' }])] },
    ],
    ['stream_options without stream', { ...base(), stream_options: { include_usage: true } }],
    [
      'max_tokens and a different max_completion_tokens',
      { ...base(), max_tokens: 5, max_completion_tokens: 6 },
    ],
    ['a parameter it does not know', { ...base(), n: 1 }],
  ])('leaves %s to the schema', (_case, body) => {
    expect(parseCommonChatCompletion(body, limits)).toBeUndefined();
  });

  it('copies arrays instead of handing out the request body', () => {
    const body = { ...base(), stop: ['a', 'b'] };
    const fast = parseCommonChatCompletion(body, limits);
    expect(fast?.stop).toEqual(['a', 'b']);
    expect(fast?.stop).not.toBe(body.stop);
    expect(fast?.messages).not.toBe(body.messages);
  });
});
