import { DomainError } from '@spillway/errors';

// Every refusal the decider can return. Messages are for the caller: what was wrong, how to fix it.

/** The same text for a missing conversation and another tenant's, so neither can be told apart. */
export function conversationNotFound(conversationId: string): DomainError {
  return new DomainError('CONVERSATION.NOT_FOUND', `Conversation ${conversationId} was not found`, {
    details: { field: 'conversation_id' },
  });
}

export function conversationClosed(conversationId: string): DomainError {
  return new DomainError(
    'CONVERSATION.CLOSED',
    `Conversation ${conversationId} is closed; start a new conversation to continue`,
  );
}

export function versionConflict(
  conversationId: string,
  expected: number,
  actual: number,
): DomainError {
  return new DomainError(
    'CONVERSATION.VERSION_CONFLICT',
    `Conversation ${conversationId} is at version ${actual}, not the expected ${expected}; read it again and retry`,
    { details: { expectedVersion: expected, actualVersion: actual } },
  );
}

export function conversationExists(conversationId: string): DomainError {
  return new DomainError(
    'CONVERSATION.VERSION_CONFLICT',
    `Conversation id ${conversationId} is already in use; choose another id or leave it empty to get a new one`,
    { details: { field: 'conversation_id' } },
  );
}

export function invalidField(field: string, problem: string): DomainError {
  return new DomainError('REQUEST.INVALID', `${field} ${problem}`, { details: { field } });
}

export function turnAlreadyFinished(
  turnId: string,
  how: 'completed' | 'failed' | 'superseded',
): DomainError {
  const why =
    how === 'superseded'
      ? 'was superseded by a later user turn and can no longer be answered'
      : `has already ${how}`;
  return new DomainError('TURN.ALREADY_COMPLETED', `Turn ${turnId} ${why}`, {
    details: { turnId, status: how },
  });
}

export function assignmentConflict(
  conversationId: string,
  expectedShard: string,
  actualShard: string,
): DomainError {
  return new DomainError(
    'ASSIGNMENT.CONFLICT',
    `Conversation ${conversationId} is pinned to shard ${actualShard}, not ${expectedShard}; read it again`,
    { details: { expectedShardId: expectedShard, actualShardId: actualShard } },
  );
}
