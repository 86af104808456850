import { DomainError } from '@spillway/errors';

/**
 * The failures a shard reports to its caller. Each message names the shard, so a router log line
 * or a client error says which GPU shard misbehaved without a trace lookup.
 */
export const shardErrors = {
  overloaded(shardId: string, maxInFlight: number, retryAfterMs: number): DomainError {
    return new DomainError(
      'SHARD.OVERLOADED',
      `shard ${shardId} is serving its maximum of ${maxInFlight} streams; retry in ${retryAfterMs} ms or on another shard`,
      {
        retryAfterSeconds: retryAfterMs / 1_000,
        details: { shardId, maxInFlightStreams: maxInFlight },
      },
    );
  },

  engineBusy(shardId: string, detail: string, retryAfterMs: number): DomainError {
    return new DomainError(
      'SHARD.OVERLOADED',
      `shard ${shardId}: the engine is saturated (${detail}); retry in ${retryAfterMs} ms or on another shard`,
      { retryAfterSeconds: retryAfterMs / 1_000, details: { shardId } },
    );
  },

  draining(shardId: string, retryAfterMs: number): DomainError {
    return new DomainError(
      'SHARD.DRAINING',
      `shard ${shardId} is draining and takes no new streams; use another shard`,
      {
        retryAfterSeconds: retryAfterMs / 1_000,
        details: { shardId },
      },
    );
  },

  unavailable(shardId: string, detail: string, cause?: unknown): DomainError {
    return new DomainError('SHARD.UNAVAILABLE', `shard ${shardId} is unavailable: ${detail}`, {
      details: { shardId },
      ...(cause === undefined ? {} : { cause }),
    });
  },

  timeout(shardId: string, detail: string): DomainError {
    return new DomainError('ENGINE.TIMEOUT', `shard ${shardId}: ${detail}`, {
      details: { shardId },
    });
  },

  badResponse(shardId: string, detail: string, cause?: unknown): DomainError {
    return new DomainError(
      'ENGINE.BAD_RESPONSE',
      `shard ${shardId}: the engine sent a malformed response: ${detail}`,
      {
        details: { shardId },
        ...(cause === undefined ? {} : { cause }),
      },
    );
  },

  invalidRequest(shardId: string, detail: string): DomainError {
    return new DomainError(
      'REQUEST.INVALID',
      `shard ${shardId}: the engine rejected the request: ${detail}`,
      {
        details: { shardId },
      },
    );
  },
};
