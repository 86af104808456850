import { DomainError } from '@spillway/errors';
import { retryAfterSeconds, type QuotaDecision } from '../domain/rate-limit.js';

/** QUOTA.EXCEEDED with the bucket snapshot, so transports can send the rate-limit headers. */
export class QuotaExceededError extends DomainError {
  constructor(readonly decision: Extract<QuotaDecision, { allowed: false }>) {
    const what = decision.limitedBy === 'requests' ? 'requests per minute' : 'tokens per minute';
    const limit =
      decision.limitedBy === 'requests' ? decision.requests.limit : decision.tokens.limit;
    super(
      'QUOTA.EXCEEDED',
      `Rate limit reached: your tenant may use ${limit} ${what}. Retry after ${retryAfterSeconds(decision.retryAfterMs)} s.`,
      {
        retryAfterSeconds: decision.retryAfterMs / 1000,
        details: { limitedBy: decision.limitedBy },
      },
    );
  }
}

/** The caller's request is wrong; `param` names the field, `reason` is a stable machine code. */
export function invalidRequest(
  param: string,
  message: string,
  reason = 'invalid_value',
): DomainError {
  return new DomainError('REQUEST.INVALID', message, { details: { param, reason } });
}

export function conversationNotFound(conversationId: string): DomainError {
  return new DomainError('CONVERSATION.NOT_FOUND', `No conversation with id '${conversationId}'.`, {
    details: { param: 'conversation_id' },
  });
}
