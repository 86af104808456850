import { formatResetDuration, type QuotaDecision } from '../../domain/rate-limit.js';

/** OpenAI's `x-ratelimit-*` headers for both buckets. */
export function rateLimitHeaders(decision: QuotaDecision): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(decision.requests.limit),
    'x-ratelimit-remaining-requests': String(decision.requests.remaining),
    'x-ratelimit-reset-requests': formatResetDuration(decision.requests.resetMs),
    'x-ratelimit-limit-tokens': String(decision.tokens.limit),
    'x-ratelimit-remaining-tokens': String(decision.tokens.remaining),
    'x-ratelimit-reset-tokens': formatResetDuration(decision.tokens.resetMs),
  };
}
