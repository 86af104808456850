import { type DomainError } from '@spillway/errors';
import type {
  AppendUserMessage,
  CloseConversation,
  CompleteAssistantMessage,
  CompleteMigration,
  ConversationCommand,
  FailAssistantMessage,
  PinConversation,
  StartConversation,
  StartMigration,
} from './conversation.commands.js';
import {
  assignmentConflict,
  conversationClosed,
  conversationExists,
  conversationNotFound,
  invalidField,
  turnAlreadyFinished,
} from './conversation.errors.js';
import type { ConversationEvent, Message } from './conversation.events.js';
import {
  exists,
  findTurn,
  turnByIdempotencyKey,
  type ConversationDetails,
  type ConversationState,
} from './conversation.state.js';

/**
 * What a command leads to. `unchanged` is an idempotent retry: the effect is already recorded, at
 * `version` (and, for a user turn, as `turnId`), and nothing is appended.
 */
export type Decision =
  | { readonly outcome: 'accepted'; readonly events: readonly ConversationEvent[] }
  | { readonly outcome: 'unchanged'; readonly version: number; readonly turnId?: string }
  | { readonly outcome: 'rejected'; readonly error: DomainError };

const accepted = (...events: ConversationEvent[]): Decision => ({ outcome: 'accepted', events });
const unchanged = (version: number, turnId?: string): Decision =>
  turnId === undefined
    ? { outcome: 'unchanged', version }
    : { outcome: 'unchanged', version, turnId };
const rejected = (error: DomainError): Decision => ({ outcome: 'rejected', error });

/** Validates a command against the conversation's state and returns the facts it produces. */
export function decide(command: ConversationCommand, state: ConversationState): Decision {
  switch (command.type) {
    case 'StartConversation':
      return start(command, state);
    case 'AppendUserMessage':
      return appendUserMessage(command, state);
    case 'CompleteAssistantMessage':
      return completeAssistantMessage(command, state);
    case 'FailAssistantMessage':
      return failAssistantMessage(command, state);
    case 'PinConversation':
      return pin(command, state);
    case 'StartMigration':
      return startMigration(command, state);
    case 'CompleteMigration':
      return completeMigration(command, state);
    case 'CloseConversation':
      return close(command, state);
    default: {
      const unhandled: never = command;
      return unhandled;
    }
  }
}

function start(command: StartConversation, state: ConversationState): Decision {
  const { data, now } = command;
  if (command.conversationId === '')
    return rejected(invalidField('conversation_id', 'must not be empty'));
  if (data.tenantId === '') return rejected(invalidField('tenant_id', 'must not be empty'));
  if (data.model === '')
    return rejected(invalidField('model', 'must name the model the conversation uses'));
  if (exists(state)) {
    const sameStart =
      state.tenantId === data.tenantId &&
      state.model === data.model &&
      state.systemPrompt === data.systemPrompt;
    return sameStart ? unchanged(1) : rejected(conversationExists(command.conversationId));
  }
  return accepted({
    type: 'ConversationStarted',
    data: { ...data, conversationId: command.conversationId, labels: { ...data.labels } },
    occurredAtMs: now,
  });
}

function appendUserMessage(command: AppendUserMessage, state: ConversationState): Decision {
  const { data, now } = command;
  if (!exists(state)) return rejected(conversationNotFound(command.conversationId));
  // A retry of a recorded turn gets the original, even if the conversation closed since.
  const original = turnByIdempotencyKey(state, data.idempotencyKey);
  if (original) return unchanged(original.version, original.turnId);
  if (state.status === 'closed') return rejected(conversationClosed(state.conversationId));
  if (data.turnId === '') return rejected(invalidField('turn_id', 'must not be empty'));
  if (findTurn(state, data.turnId))
    return rejected(invalidField('turn_id', `${data.turnId} is already used in this conversation`));
  const problem = messagesProblem(data.messages);
  if (problem) return rejected(problem);
  return accepted({
    type: 'UserMessageAppended',
    data: { ...data, messages: [...data.messages] },
    occurredAtMs: now,
  });
}

function messagesProblem(messages: readonly Message[]): DomainError | undefined {
  if (messages.length === 0) return invalidField('messages', 'must hold at least one message');
  const index = messages.findIndex((message) => message.content === '');
  if (index >= 0) return invalidField(`messages[${index}].content`, 'must not be empty');
  return undefined;
}

function completeAssistantMessage(
  command: CompleteAssistantMessage,
  state: ConversationState,
): Decision {
  const { data, now } = command;
  const found = turnToFinish(command.conversationId, state, data.turnId);
  if ('error' in found) return rejected(found.error);
  const { conversation, turn } = found;
  if (
    turn.status === 'completed' &&
    turn.reply?.content === data.content &&
    turn.reply.shardId === data.shardId
  ) {
    return unchanged(turn.finishedVersion ?? 0, turn.turnId);
  }
  if (turn.status !== 'pending') return rejected(turnAlreadyFinished(turn.turnId, turn.status));
  if (conversation.status === 'closed')
    return rejected(conversationClosed(conversation.conversationId));
  if (data.shardId === '')
    return rejected(invalidField('shard_id', 'must name the shard that produced the reply'));
  return accepted({ type: 'AssistantMessageCompleted', data: { ...data }, occurredAtMs: now });
}

function failAssistantMessage(command: FailAssistantMessage, state: ConversationState): Decision {
  const { data, now } = command;
  const found = turnToFinish(command.conversationId, state, data.turnId);
  if ('error' in found) return rejected(found.error);
  const { conversation, turn } = found;
  if (
    turn.status === 'failed' &&
    turn.failure?.errorCode === data.errorCode &&
    turn.failure.shardId === data.shardId
  ) {
    return unchanged(turn.finishedVersion ?? 0, turn.turnId);
  }
  if (turn.status !== 'pending') return rejected(turnAlreadyFinished(turn.turnId, turn.status));
  if (conversation.status === 'closed')
    return rejected(conversationClosed(conversation.conversationId));
  if (data.errorCode === '')
    return rejected(invalidField('error_code', 'must say why the turn failed'));
  return accepted({ type: 'AssistantMessageFailed', data: { ...data }, occurredAtMs: now });
}

function turnToFinish(
  conversationId: string,
  state: ConversationState,
  turnId: string,
):
  | {
      readonly conversation: ConversationDetails;
      readonly turn: NonNullable<ReturnType<typeof findTurn>>;
    }
  | { readonly error: DomainError } {
  if (!exists(state)) return { error: conversationNotFound(conversationId) };
  if (turnId === '') return { error: invalidField('turn_id', 'must not be empty') };
  const turn = findTurn(state, turnId);
  if (!turn)
    return { error: invalidField('turn_id', `${turnId} is not a turn of this conversation`) };
  return { conversation: state, turn };
}

function pin(command: PinConversation, state: ConversationState): Decision {
  const { data, now } = command;
  if (!exists(state)) return rejected(conversationNotFound(command.conversationId));
  if (data.shardId === '') return rejected(invalidField('shard_id', 'must not be empty'));
  // Recorded after a newer placement (or recorded twice): the registry has moved on already.
  if (supersededBy(state, data.assignmentVersion)) return unchanged(state.pinnedVersion);
  // Without a version, a pin to the shard in force is already recorded. With a newer one it is
  // appended all the same: the version it brings decides which later records are stale.
  if (state.shardId === data.shardId && data.assignmentVersion === 0)
    return unchanged(state.pinnedVersion);
  if (state.status === 'closed') return rejected(conversationClosed(state.conversationId));
  return accepted({ type: 'ConversationPinned', data: { ...data }, occurredAtMs: now });
}

/** Whether a placement with this registry version is older than one the stream already holds. */
function supersededBy(state: ConversationDetails, assignmentVersion: number): boolean {
  return assignmentVersion !== 0 && assignmentVersion <= state.assignmentVersion;
}

function startMigration(command: StartMigration, state: ConversationState): Decision {
  const { data, now } = command;
  if (!exists(state)) return rejected(conversationNotFound(command.conversationId));
  if (data.migrationId === '') return rejected(invalidField('migration_id', 'must not be empty'));
  if (state.migration?.migrationId === data.migrationId) return unchanged(state.migration.version);
  const done = state.completedMigrations[data.migrationId];
  if (done !== undefined) return unchanged(done);
  if (state.status === 'closed') return rejected(conversationClosed(state.conversationId));
  if (state.shardId !== '' && state.shardId !== data.fromShardId) {
    return rejected(assignmentConflict(state.conversationId, data.fromShardId, state.shardId));
  }
  return accepted({ type: 'ConversationMigrationStarted', data: { ...data }, occurredAtMs: now });
}

function completeMigration(command: CompleteMigration, state: ConversationState): Decision {
  const { data, now } = command;
  if (!exists(state)) return rejected(conversationNotFound(command.conversationId));
  if (data.migrationId === '') return rejected(invalidField('migration_id', 'must not be empty'));
  // Exactly one ConversationMigrated per migration, however often the saga retries.
  const done = state.completedMigrations[data.migrationId];
  if (done !== undefined) return unchanged(done);
  if (state.status === 'closed') return rejected(conversationClosed(state.conversationId));
  if (data.toShardId === '') return rejected(invalidField('to_shard_id', 'must not be empty'));
  if (data.toShardId === data.fromShardId)
    return rejected(invalidField('to_shard_id', 'must differ from from_shard_id'));
  // A versioned move is a fact the registry applied: it is recorded even behind a newer pin (and
  // then leaves the stream's shard alone, see evolve). An unversioned one must start from the
  // stream's shard.
  if (data.assignmentVersion === 0 && state.shardId !== '' && state.shardId !== data.fromShardId) {
    return rejected(assignmentConflict(state.conversationId, data.fromShardId, state.shardId));
  }
  return accepted({ type: 'ConversationMigrated', data: { ...data }, occurredAtMs: now });
}

function close(command: CloseConversation, state: ConversationState): Decision {
  const { data, now } = command;
  if (!exists(state)) return rejected(conversationNotFound(command.conversationId));
  if (state.status === 'closed') return unchanged(state.closedVersion);
  return accepted({ type: 'ConversationClosed', data: { ...data }, occurredAtMs: now });
}
