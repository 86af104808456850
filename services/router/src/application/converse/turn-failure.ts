import { isDomainError } from '@spillway/errors';
import { AttemptCut } from '../failover/open-attempts.js';

/** A Generate stream that ended without its completion: the shard went away mid-reply. */
export class StreamEndedEarly extends Error {
  constructor(readonly shardId: string) {
    super(`shard ${shardId} ended the stream without completing the reply`);
    this.name = 'StreamEndedEarly';
  }
}

/**
 * The engine ended the reply with finish reason `error` (vLLM's `FinishReason.ERROR`: the request
 * failed inside the engine after it was accepted). The text streamed so far is good; the rest
 * comes from another shard, as after any mid-stream failure, so callers never see a reply that
 * merely stops with an engine error.
 */
export class EngineFinishedWithError extends Error {
  constructor(readonly shardId: string) {
    super(`shard ${shardId} ended the reply with an engine error`);
    this.name = 'EngineFinishedWithError';
  }
}

export type AttemptFailure =
  | { readonly kind: 'cancelled' }
  /** Try another shard; `suspect` keeps the shard out of placements for a little while. */
  | { readonly kind: 'retry'; readonly suspect: boolean; readonly cause: string }
  /**
   * The shard is full now (every stream slot taken) and says when one should free: not a failure.
   * Another shard, or this one once `retryAfterMs` has passed.
   */
  | { readonly kind: 'busy'; readonly retryAfterMs: number }
  | { readonly kind: 'fatal' };

/** A full shard's refusal without a retry hint is tried again after this long. */
const DEFAULT_BUSY_RETRY_MS = 250;
/** An honest hint is seldom long; a very long one is not worth waiting for in one turn. */
const MAX_BUSY_RETRY_MS = 5_000;

/**
 * What a failed attempt means for the turn. A full shard's refusal sends the turn to another shard
 * or back to this one after its retry hint; a draining shard's refusal and the shard's failures
 * (unreachable, dropped stream, engine timeout or garbage, cut by the router because the registry
 * declared it failed or it went silent) send it to another shard; a request the engine rejects as
 * invalid would fail anywhere, and anything else is a bug.
 */
export function classifyAttemptFailure(
  error: unknown,
  callerSignal: AbortSignal,
  attemptSignal: AbortSignal,
): AttemptFailure {
  if (callerSignal.aborted) return { kind: 'cancelled' };
  if (attemptSignal.aborted) {
    const reason: unknown = attemptSignal.reason;
    const cause = reason instanceof AttemptCut ? reason.reason : 'cut';
    return { kind: 'retry', suspect: true, cause };
  }
  if (error instanceof StreamEndedEarly) return { kind: 'retry', suspect: true, cause: 'ended' };
  if (error instanceof EngineFinishedWithError)
    return { kind: 'retry', suspect: true, cause: 'engine-error' };
  if (!isDomainError(error)) return { kind: 'fatal' };
  switch (error.code) {
    case 'SHARD.OVERLOADED':
      return { kind: 'busy', retryAfterMs: busyRetryMs(error.retryAfterSeconds) };
    case 'SHARD.DRAINING':
      return { kind: 'retry', suspect: false, cause: error.code };
    case 'SHARD.UNAVAILABLE':
    case 'SHARD.NOT_FOUND':
    case 'ENGINE.TIMEOUT':
    case 'ENGINE.BAD_RESPONSE':
    case 'DEPENDENCY.UNAVAILABLE':
    case 'INTERNAL':
      return { kind: 'retry', suspect: true, cause: error.code };
    case 'REQUEST.INVALID':
    case 'AUTH.UNAUTHENTICATED':
    case 'AUTH.FORBIDDEN':
    case 'CONVERSATION.NOT_FOUND':
    case 'CONVERSATION.VERSION_CONFLICT':
    case 'CONVERSATION.CLOSED':
    case 'TURN.ALREADY_COMPLETED':
    case 'QUOTA.EXCEEDED':
    case 'ADMISSION.SHED':
    case 'DEADLINE.UNMEETABLE':
    case 'ASSIGNMENT.CONFLICT':
      return { kind: 'fatal' };
    default: {
      const unknown: never = error.code;
      return unknown;
    }
  }
}

function busyRetryMs(retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds === undefined || !Number.isFinite(retryAfterSeconds))
    return DEFAULT_BUSY_RETRY_MS;
  return Math.min(MAX_BUSY_RETRY_MS, Math.max(1, Math.ceil(retryAfterSeconds * 1_000)));
}

export function cancellation(): Error {
  const error = new Error('the caller cancelled the turn');
  error.name = 'AbortError';
  return error;
}
