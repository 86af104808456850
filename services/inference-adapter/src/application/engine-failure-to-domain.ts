import type { DomainError } from '@spillway/errors';
import { retryHintMs } from '../domain/admission.js';
import { shardErrors } from '../domain/shard-errors.js';
import type { EngineFailure } from './engine.port.js';

/**
 * What an engine failure means to the shard's caller. Anything that may work on another shard or
 * a moment later is retryable (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED); a request the
 * engine refused as invalid, or output we cannot read, is not.
 */
export function engineFailureToDomainError(shardId: string, failure: EngineFailure): DomainError {
  switch (failure.kind) {
    case 'unreachable':
    case 'disconnected':
    case 'engine-error':
      return shardErrors.unavailable(shardId, failure.message, failure);
    case 'timeout':
      return shardErrors.timeout(shardId, failure.message);
    case 'bad-response':
      return shardErrors.badResponse(shardId, failure.message, failure);
    case 'cancelled':
      return shardErrors.unavailable(shardId, 'the request to the engine was cancelled', failure);
    case 'rejected':
      return rejection(shardId, failure);
    default: {
      const unknownKind: never = failure.kind;
      return shardErrors.unavailable(
        shardId,
        `unexpected engine failure ${String(unknownKind)}`,
        failure,
      );
    }
  }
}

function rejection(shardId: string, failure: EngineFailure): DomainError {
  const status = failure.status ?? 0;
  if (status === 429)
    return shardErrors.engineBusy(
      shardId,
      failure.message,
      retryHintMs({ ttftMsP50: 0, itlMsP50: 0 }),
    );
  if (status === 400 || status === 404 || status === 413 || status === 422) {
    return shardErrors.invalidRequest(shardId, failure.message);
  }
  return shardErrors.unavailable(shardId, `the engine answered ${failure.message}`, failure);
}
