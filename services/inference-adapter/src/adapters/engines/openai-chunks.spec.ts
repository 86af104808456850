import { EngineFailure } from '../../application/engine.port.js';
import { interpretChatChunk, interpretChatCompletion } from './openai-chunks.js';

const chunk = (fields: Record<string, unknown>) =>
  JSON.stringify({ object: 'chat.completion.chunk', ...fields });
const choice = (delta: Record<string, unknown> | null, finishReason: string | null = null) => ({
  choices: [{ index: 0, delta, finish_reason: finishReason }],
});

function failureOf(run: () => unknown): EngineFailure {
  try {
    run();
  } catch (error) {
    if (error instanceof EngineFailure) return error;
    throw error;
  }
  throw new Error('expected an EngineFailure');
}

describe('interpretChatChunk', () => {
  it('reads text, finish reason and usage', () => {
    expect(interpretChatChunk(chunk(choice({ content: 'Hi' })), 1)).toEqual({
      kind: 'chunk',
      text: 'Hi',
      finishReason: null,
      usage: undefined,
    });
    expect(interpretChatChunk(chunk(choice({}, 'length')), 2)).toMatchObject({
      text: '',
      finishReason: 'length',
    });
    const usage = {
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 8 },
    };
    expect(interpretChatChunk(chunk({ choices: [], usage }), 3)).toEqual({
      kind: 'chunk',
      text: '',
      finishReason: null,
      usage: { promptTokens: 12, completionTokens: 3, cachedPromptTokens: 8 },
    });
  });

  it('recognises the terminator and in-stream errors of every engine family', () => {
    expect(interpretChatChunk('[DONE]', 4)).toEqual({ kind: 'done' });
    expect(interpretChatChunk(JSON.stringify({ error: { message: 'engine dead' } }), 1)).toEqual({
      kind: 'error',
      message: 'engine dead',
    });
    expect(
      interpretChatChunk(
        JSON.stringify({ error: 'Request failed during generation', error_type: 'generation' }),
        1,
      ),
    ).toMatchObject({
      kind: 'error',
    });
    expect(interpretChatChunk(JSON.stringify({ object: 'error', message: 'oops' }), 1)).toEqual({
      kind: 'error',
      message: 'oops',
    });
  });

  it('says what was malformed', () => {
    const notJson = failureOf(() => interpretChatChunk('{"choices": [', 5));
    expect(notJson.kind).toBe('bad-response');
    expect(notJson.message).toContain('stream event #5 is not JSON');
    expect(failureOf(() => interpretChatChunk(chunk({ choices: 'nope' }), 2)).message).toContain(
      '"choices" that is not an array',
    );
    expect(
      failureOf(() => interpretChatChunk(chunk(choice({ content: 42 })), 3)).message,
    ).toContain('delta.content of type number');
    expect(failureOf(() => interpretChatChunk(chunk({ id: 'x' }), 1)).message).toContain(
      'has no "choices"',
    );
  });
});

describe('interpretChatCompletion', () => {
  it('reads the usage of a non-streaming completion', () => {
    const body = JSON.stringify({
      choices: [{ message: { content: 'x' } }],
      usage: { prompt_tokens: 40, completion_tokens: 1 },
    });
    expect(interpretChatCompletion(body)).toEqual({
      promptTokens: 40,
      completionTokens: 1,
      cachedPromptTokens: 0,
    });
  });
});
