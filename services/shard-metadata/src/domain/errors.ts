import { DomainError } from '@spillway/errors';

/** REQUEST.INVALID naming the offending field by its protobuf path, e.g. `shard.endpoint`. */
export function invalidField(field: string, problem: string): DomainError {
  return new DomainError('REQUEST.INVALID', `${field} ${problem}`, { details: { field } });
}

export function shardNotFound(
  shardId: string,
  hint = 'register it first with RegisterShard',
): DomainError {
  return new DomainError('SHARD.NOT_FOUND', `shard_id "${shardId}" is not registered; ${hint}`, {
    details: { field: 'shard_id', shardId },
  });
}

export function shardRemoved(shardId: string): DomainError {
  return new DomainError('SHARD.NOT_FOUND', `shard_id "${shardId}" was removed from the registry`, {
    details: { field: 'shard_id', shardId },
  });
}

export function shardDraining(shardId: string, what: string): DomainError {
  return new DomainError('SHARD.DRAINING', `shard_id "${shardId}" is draining: ${what}`, {
    details: { field: 'shard_id', shardId },
  });
}

export function shardFailed(shardId: string, what: string): DomainError {
  return new DomainError('SHARD.UNAVAILABLE', `shard_id "${shardId}" has failed: ${what}`, {
    details: { field: 'shard_id', shardId },
  });
}
