import { type ChatCompletionRequest } from './chat-completion.schema.js';
import { isWellFormedUnicode, type RequestLimits, type WireRole } from './common.schema.js';

/**
 * The chat completion request most clients send — a model, text messages and a few sampling
 * parameters — checked by hand, because the zod schema costs about 2 % of the gateway's CPU per
 * turn. It answers only when it is sure: a valid body of that shape gives exactly what
 * `chatCompletionRequestSchema` would give (same keys, in the same order, so idempotency
 * fingerprints do not change); anything else, valid or not, gives `undefined`, and the schema
 * decides and words the error. It never refuses a request itself.
 */
export function parseCommonChatCompletion(
  body: unknown,
  limits: RequestLimits,
): ChatCompletionRequest | undefined {
  if (!isPlainObject(body)) return undefined;
  let known = 0;
  for (const key in body) {
    if (!Object.hasOwn(body, key) || !FAST_KEYS.has(key)) return undefined;
    known++;
  }
  if (known === 0) return undefined;

  const { model } = body;
  if (typeof model !== 'string' || model.length < 1 || model.length > 256) return undefined;
  const messages = commonMessages(body.messages, limits);
  if (messages === undefined) return undefined;

  // Built in the schema's key order, each key only when the body has it (as zod does).
  const out: Record<string, unknown> = { model, messages };
  for (let i = 0; i < SAMPLING.length; i++) {
    const [key, accepts] = SAMPLING[i]!;
    if (!Object.hasOwn(body, key)) continue;
    const value = body[key];
    if (value === null) {
      out[key] = null;
      continue;
    }
    if (!accepts(value, limits)) return undefined;
    out[key] = key === 'stream_options' ? { ...(value as object) } : copy(value);
  }

  const { stream, stream_options: streamOptions } = out;
  if (streamOptions !== undefined && streamOptions !== null && stream !== true) return undefined;
  const { max_tokens: maxTokens, max_completion_tokens: maxCompletionTokens } = out;
  if (
    maxTokens !== undefined &&
    maxTokens !== null &&
    maxCompletionTokens !== undefined &&
    maxCompletionTokens !== null &&
    maxTokens !== maxCompletionTokens
  )
    return undefined;
  return out as ChatCompletionRequest;
}

type Accepts = (value: unknown, limits: RequestLimits) => boolean;

const number =
  (min: number, max: number, exclusiveMin = false): Accepts =>
  (value) =>
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (exclusiveMin ? value > min : value >= min) &&
    value <= max;

const completionTokens: Accepts = (value, limits) =>
  Number.isSafeInteger(value) &&
  (value as number) >= 1 &&
  (value as number) <= limits.maxCompletionTokens;

const stopSequence = (value: unknown): boolean =>
  typeof value === 'string' && value.length >= 1 && value.length <= 256;

/** The sampling keys the schema knows, in the schema's order, with what the schema accepts. */
const SAMPLING: readonly (readonly [string, Accepts])[] = [
  ['temperature', number(0, 2)],
  ['top_p', number(0, 1, true)],
  ['max_tokens', completionTokens],
  ['max_completion_tokens', completionTokens],
  [
    'stop',
    (value) =>
      stopSequence(value) ||
      (Array.isArray(value) && value.length <= 4 && value.every(stopSequence)),
  ],
  ['seed', (value) => Number.isSafeInteger(value) && (value as number) >= 0],
  ['presence_penalty', number(-2, 2)],
  ['frequency_penalty', number(-2, 2)],
  ['stream', (value) => typeof value === 'boolean'],
  [
    'stream_options',
    (value) =>
      isPlainObject(value) &&
      Object.keys(value).every((key) => key === 'include_usage') &&
      (value.include_usage === undefined ||
        value.include_usage === null ||
        typeof value.include_usage === 'boolean'),
  ],
  ['user', (value) => typeof value === 'string' && value.length <= 256],
];

const FAST_KEYS = new Set(['model', 'messages', ...SAMPLING.map(([key]) => key)]);
const ROLES: ReadonlySet<string> = new Set<WireRole>(['system', 'developer', 'user', 'assistant']);
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

type FastMessage = { role: 'system' | 'user' | 'assistant'; content: string; name?: string };

/** Text messages only; array content and anything doubtful go to the schema. */
function commonMessages(value: unknown, limits: RequestLimits): FastMessage[] | undefined {
  if (!Array.isArray(value) || value.length < 1 || value.length > limits.maxMessages)
    return undefined;
  const messages: FastMessage[] = [];
  for (const message of value) {
    if (!isPlainObject(message)) return undefined;
    const { role, content, name } = message;
    let keys = 0;
    for (const key in message) {
      if (!Object.hasOwn(message, key)) return undefined;
      if (key !== 'role' && key !== 'content' && key !== 'name') return undefined;
      keys++;
    }
    if (typeof role !== 'string' || !ROLES.has(role)) return undefined;
    if (typeof content !== 'string' || content.length > limits.maxMessageChars) return undefined;
    if (role !== 'assistant' && content.trim() === '') return undefined;
    if (!isWellFormedUnicode(content)) return undefined;
    if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) return undefined;
    if (keys !== (name === undefined ? 2 : 3)) return undefined;
    messages.push({
      role: role === 'developer' ? 'system' : (role as FastMessage['role']),
      content,
      ...(name !== undefined ? { name } : {}),
    });
  }
  return messages;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function copy(value: unknown): unknown {
  return Array.isArray(value) ? [...(value as unknown[])] : value;
}
