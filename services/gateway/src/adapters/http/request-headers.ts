import type { FastifyRequest } from 'fastify';
import { invalidRequest } from '../../application/errors.js';
import { type SamplingParams } from '../../domain/chat.js';
import { ID_PATTERN, ID_RULE, type WireSampling } from './schemas/common.schema.js';

export const CONVERSATION_HEADER = 'x-spillway-conversation-id';
export const CACHE_HEADER = 'x-spillway-cache';
/** Printable ASCII without spaces: safe to store, log and echo. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function single(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value))
    throw invalidRequest(name, `The ${name} header was sent more than once.`, 'duplicate_header');
  return value;
}

export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = single(request, 'idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw invalidRequest(
      'Idempotency-Key',
      'Idempotency-Key must be 1-255 printable ASCII characters without spaces.',
      'invalid_header',
    );
  }
  return key;
}

export function affinityConversationIdOf(request: FastifyRequest): string | undefined {
  const id = single(request, CONVERSATION_HEADER);
  if (id === undefined) return undefined;
  if (!ID_PATTERN.test(id))
    throw invalidRequest(
      CONVERSATION_HEADER,
      `${CONVERSATION_HEADER} ${ID_RULE}.`,
      'invalid_header',
    );
  return id;
}

/** `Cache-Control: no-cache` / `no-store` or `x-spillway-cache: bypass` skip the response cache. */
export function cacheModeOf(request: FastifyRequest): 'use' | 'bypass' {
  const explicit = single(request, CACHE_HEADER);
  if (explicit !== undefined && explicit !== 'bypass' && explicit !== 'use') {
    throw invalidRequest(
      CACHE_HEADER,
      `${CACHE_HEADER} must be "use" or "bypass".`,
      'invalid_header',
    );
  }
  if (explicit === 'bypass') return 'bypass';
  const cacheControl = (request.headers['cache-control'] ?? '').toLowerCase();
  return /(^|[,\s])no-(cache|store)([,\s=]|$)/.test(cacheControl) ? 'bypass' : 'use';
}

export function conversationIdParam(id: string): string {
  if (!ID_PATTERN.test(id))
    throw invalidRequest(
      'conversation_id',
      `The conversation id in the path ${ID_RULE}.`,
      'invalid_value',
    );
  return id;
}

export function toSampling(body: WireSampling): SamplingParams {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const stop =
    body.stop === undefined || body.stop === null
      ? undefined
      : typeof body.stop === 'string'
        ? [body.stop]
        : body.stop;
  return {
    ...(body.temperature !== undefined && body.temperature !== null
      ? { temperature: body.temperature }
      : {}),
    ...(body.top_p !== undefined && body.top_p !== null ? { topP: body.top_p } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(stop !== undefined ? { stop } : {}),
    ...(body.seed !== undefined && body.seed !== null ? { seed: body.seed } : {}),
    ...(body.presence_penalty !== undefined && body.presence_penalty !== null
      ? { presencePenalty: body.presence_penalty }
      : {}),
    ...(body.frequency_penalty !== undefined && body.frequency_penalty !== null
      ? { frequencyPenalty: body.frequency_penalty }
      : {}),
  };
}

/** What makes two requests "the same" for Idempotency-Key: everything but how the reply is delivered. */
export function fingerprintMaterial(
  route: string,
  body: object,
  extra: readonly (string | undefined)[] = [],
): string {
  const { stream: _stream, stream_options: _options, ...rest } = body as Record<string, unknown>;
  return JSON.stringify([route, rest, ...extra]);
}
