import { type ChatMessage, type SamplingParams } from './chat.js';

/**
 * Which completions may be served from the tenant's response cache: only deterministic ones
 * (temperature explicitly 0), and the key covers everything that can change the reply.
 */
export function isCacheable(sampling: SamplingParams): boolean {
  return sampling.temperature === 0;
}

export type CacheLookupResult = 'hit' | 'miss' | 'bypass' | 'uncacheable';

/** A canonical string of the request's reply-determining parts; the adapter hashes it. */
export function cacheKeyMaterial(
  model: string,
  messages: readonly ChatMessage[],
  sampling: SamplingParams,
): string {
  return JSON.stringify([
    model,
    messages.map((m) => [m.role, m.content, m.name ?? null]),
    sampling.topP ?? null,
    sampling.maxTokens ?? null,
    sampling.stop ?? null,
    sampling.seed ?? null,
    sampling.presencePenalty ?? null,
    sampling.frequencyPenalty ?? null,
  ]);
}
