import { EngineFailure, type EngineUsage } from '../../application/engine.port.js';

export type ChatChunk =
  | { readonly kind: 'done' }
  | {
      readonly kind: 'chunk';
      readonly text: string;
      readonly finishReason: string | null;
      readonly usage: EngineUsage | undefined;
    }
  /** The engine reported an error inside the stream (vLLM, TGI and SGLang all can). */
  | { readonly kind: 'error'; readonly message: string };

const SHOWN_CHARS = 120;

/**
 * Reads the `data` of one chat.completion.chunk event. Validation is by hand, not by schema: this
 * runs once per token on the hot path, and it only needs the fields the adapter forwards. Anything
 * else that does not fit throws a `bad-response` EngineFailure saying what was wrong.
 */
export function interpretChatChunk(data: string, index: number): ChatChunk {
  if (data === '[DONE]') return { kind: 'done' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new EngineFailure('bad-response', `stream event #${index} is not JSON: ${show(data)}`);
  }
  if (!isObject(parsed))
    throw new EngineFailure(
      'bad-response',
      `stream event #${index} is not a JSON object: ${show(data)}`,
    );
  const error = engineError(parsed);
  if (error !== undefined) return { kind: 'error', message: error };

  const usage = readUsage(parsed.usage, index);
  const choices = parsed.choices;
  if (choices === undefined || choices === null) {
    if (usage) return { kind: 'chunk', text: '', finishReason: null, usage };
    throw new EngineFailure(
      'bad-response',
      `stream event #${index} has no "choices": ${show(data)}`,
    );
  }
  if (!Array.isArray(choices)) {
    throw new EngineFailure(
      'bad-response',
      `stream event #${index} has "choices" that is not an array: ${show(data)}`,
    );
  }
  const choice: unknown = choices[0];
  if (choice === undefined) return { kind: 'chunk', text: '', finishReason: null, usage };
  if (!isObject(choice))
    throw new EngineFailure(
      'bad-response',
      `stream event #${index} has a choice that is not an object`,
    );
  const delta = choice.delta;
  let text = '';
  if (delta !== undefined && delta !== null) {
    if (!isObject(delta))
      throw new EngineFailure(
        'bad-response',
        `stream event #${index} has a "delta" that is not an object`,
      );
    const content = delta.content;
    if (typeof content === 'string') text = content;
    else if (content !== undefined && content !== null) {
      throw new EngineFailure(
        'bad-response',
        `stream event #${index} has delta.content of type ${typeof content}, expected a string`,
      );
    }
  }
  const finish = choice.finish_reason;
  if (finish !== undefined && finish !== null && typeof finish !== 'string') {
    throw new EngineFailure(
      'bad-response',
      `stream event #${index} has a finish_reason that is not a string`,
    );
  }
  return { kind: 'chunk', text, finishReason: finish ?? null, usage };
}

/** Reads the usage of a non-streaming chat.completion body. */
export function interpretChatCompletion(body: string): EngineUsage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new EngineFailure('bad-response', `the completion is not JSON: ${show(body)}`);
  }
  if (!isObject(parsed))
    throw new EngineFailure('bad-response', `the completion is not a JSON object: ${show(body)}`);
  const error = engineError(parsed);
  if (error !== undefined) throw new EngineFailure('rejected', error);
  if (!Array.isArray(parsed.choices))
    throw new EngineFailure('bad-response', `the completion has no "choices" array: ${show(body)}`);
  return readUsage(parsed.usage, 0);
}

/** `{"error": {...}}` (OpenAI, SGLang), `{"error": "..."}` (TGI), `{"object": "error", ...}` (vLLM). */
function engineError(body: Record<string, unknown>): string | undefined {
  const error = body.error;
  if (typeof error === 'string') return error;
  if (isObject(error))
    return typeof error.message === 'string' ? error.message : JSON.stringify(error);
  if (body.object === 'error')
    return typeof body.message === 'string' ? body.message : 'unspecified engine error';
  return undefined;
}

function readUsage(raw: unknown, index: number): EngineUsage | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw))
    throw new EngineFailure(
      'bad-response',
      `stream event #${index} has a "usage" that is not an object`,
    );
  const prompt = raw.prompt_tokens;
  const completion = raw.completion_tokens;
  if (typeof prompt !== 'number' || typeof completion !== 'number') {
    throw new EngineFailure(
      'bad-response',
      `stream event #${index} has usage without numeric prompt_tokens/completion_tokens`,
    );
  }
  const details = raw.prompt_tokens_details;
  const cached =
    isObject(details) && typeof details.cached_tokens === 'number' ? details.cached_tokens : 0;
  return { promptTokens: prompt, completionTokens: completion, cachedPromptTokens: cached };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return JSON.stringify(
    oneLine.length > SHOWN_CHARS ? `${oneLine.slice(0, SHOWN_CHARS)}…` : oneLine,
  );
}
