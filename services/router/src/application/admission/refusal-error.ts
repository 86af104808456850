import { DomainError } from '@spillway/errors';
import type { TurnRefusal } from '../../domain/index.js';
import type { RefusalCode } from '../router-metrics.port.js';

/**
 * The caller's early "no": a full queue (or a higher-priority turn taking the place) is load
 * shedding; a start that would come after the turn's deadline is an unmeetable deadline. Both carry
 * the queue's honest retry hint, to the millisecond (the gRPC trailer `retry-after-ms`; HTTP rounds
 * it up to whole seconds).
 */
export function refusalCode(refusal: TurnRefusal): RefusalCode {
  switch (refusal.reason) {
    case 'queue-full':
    case 'evicted':
      return 'ADMISSION.SHED';
    case 'deadline-unmeetable':
    case 'deadline-pushed':
      return 'DEADLINE.UNMEETABLE';
    default: {
      const unknown: never = refusal.reason;
      throw new Error(`unknown refusal reason ${String(unknown)}`);
    }
  }
}

export function refusalError(refusal: TurnRefusal, shardId: string): DomainError {
  const code = refusalCode(refusal);
  const message =
    code === 'ADMISSION.SHED'
      ? `the shard for this conversation is at its queue limit; retry in ${refusal.retryAfterMs} ms`
      : `the first token cannot arrive within the turn's latency budget at the current queue depth; retry in ${refusal.retryAfterMs} ms or with a larger ttft_budget_ms`;
  return new DomainError(code, message, {
    retryAfterSeconds: refusal.retryAfterMs / 1_000,
    details: { reason: refusal.reason, retryAfterMs: refusal.retryAfterMs, shardId },
  });
}
