import type { ConversationEvent, FinishReason, Message } from './conversation.events.js';

export type TurnStatus = 'pending' | 'completed' | 'failed' | 'superseded';

/** One user turn and how it ended. Plain data, so a snapshot is its JSON. */
export interface Turn {
  readonly turnId: string;
  readonly status: TurnStatus;
  /** Stream version of the UserMessageAppended that opened the turn. */
  readonly version: number;
  readonly idempotencyKey: string;
  readonly messages: readonly Message[];
  /** The assistant's reply, when completed. */
  readonly reply?: {
    readonly content: string;
    readonly shardId: string;
    readonly finishReason: FinishReason;
  };
  /** Why it failed, when failed. */
  readonly failure?: { readonly shardId: string; readonly errorCode: string };
  /** Stream version of the event that completed or failed the turn. */
  readonly finishedVersion?: number;
}

export interface ConversationDetails {
  readonly status: 'open' | 'closed';
  readonly conversationId: string;
  readonly tenantId: string;
  readonly model: string;
  readonly systemPrompt: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Number of events applied: the stream version this state reflects. */
  readonly version: number;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** Oldest first. Only the last turn can be pending: a new turn supersedes an unanswered one. */
  readonly turns: readonly Turn[];
  /** '' until the conversation is pinned to a shard. */
  readonly shardId: string;
  readonly pinnedVersion: number;
  /**
   * The highest shard-registry assignment version recorded (0: none said one). Pins and moves are
   * recorded after the registry applied them, so two of them can arrive in either order; `shardId`
   * follows the newest by this version, not the last appended.
   */
  readonly assignmentVersion: number;
  /** The migration started and not yet finished, if any. */
  readonly migration:
    | { readonly migrationId: string; readonly fromShardId: string; readonly version: number }
    | undefined;
  /** migrationId → version of its ConversationMigrated. */
  readonly completedMigrations: Readonly<Record<string, number>>;
  readonly closedVersion: number;
  readonly closedReason: string;
}

export type ConversationState =
  { readonly status: 'absent'; readonly version: 0 } | ConversationDetails;

export const initialState = (): ConversationState => ({ status: 'absent', version: 0 });

export function exists(state: ConversationState): state is ConversationDetails {
  return state.status !== 'absent';
}

export function pendingTurn(state: ConversationDetails): Turn | undefined {
  const last = state.turns[state.turns.length - 1];
  return last?.status === 'pending' ? last : undefined;
}

// Lookups scan from the newest turn: the turn a command names is almost always one of the last,
// and a scan keeps the state plain arrays (cheap to evolve, small to snapshot).
function turnIndexOf(state: ConversationDetails, matches: (turn: Turn) => boolean): number {
  for (let index = state.turns.length - 1; index >= 0; index--) {
    const turn = state.turns[index];
    if (turn && matches(turn)) return index;
  }
  return -1;
}

export function findTurn(state: ConversationDetails, turnId: string): Turn | undefined {
  return state.turns[turnIndexOf(state, (turn) => turn.turnId === turnId)];
}

/** The turn a user message with this idempotency key opened, if any. */
export function turnByIdempotencyKey(
  state: ConversationDetails,
  idempotencyKey: string,
): Turn | undefined {
  if (idempotencyKey === '') return undefined;
  return state.turns[turnIndexOf(state, (turn) => turn.idempotencyKey === idempotencyKey)];
}

export function evolve(state: ConversationState, event: ConversationEvent): ConversationState {
  const version = state.version + 1;
  if (!exists(state)) {
    if (event.type !== 'ConversationStarted') return state;
    const { conversationId, tenantId, model, systemPrompt, labels } = event.data;
    return {
      status: 'open',
      conversationId,
      tenantId,
      model,
      systemPrompt,
      labels: { ...labels },
      version,
      createdAtMs: event.occurredAtMs,
      updatedAtMs: event.occurredAtMs,
      turns: [],
      shardId: '',
      pinnedVersion: 0,
      assignmentVersion: 0,
      migration: undefined,
      completedMigrations: {},
      closedVersion: 0,
      closedReason: '',
    };
  }
  const base = { ...state, version, updatedAtMs: event.occurredAtMs };
  switch (event.type) {
    case 'ConversationStarted':
      // A second start is never decided; replaying one changes nothing but the version.
      return base;
    case 'UserMessageAppended': {
      const { turnId, messages, idempotencyKey } = event.data;
      const turns = state.turns.slice();
      const last = turns[turns.length - 1];
      // An unanswered turn followed by a new one will never be answered: the new turn supersedes it.
      if (last?.status === 'pending') turns[turns.length - 1] = { ...last, status: 'superseded' };
      turns.push({ turnId, status: 'pending', version, idempotencyKey, messages });
      return { ...base, turns };
    }
    case 'AssistantMessageCompleted': {
      const { turnId, content, shardId, finishReason } = event.data;
      return updateTurn(base, turnId, (turn) => ({
        ...turn,
        status: 'completed',
        reply: { content, shardId, finishReason },
        finishedVersion: version,
      }));
    }
    case 'AssistantMessageFailed': {
      const { turnId, shardId, errorCode } = event.data;
      return updateTurn(base, turnId, (turn) => ({
        ...turn,
        status: 'failed',
        failure: { shardId, errorCode },
        finishedVersion: version,
      }));
    }
    case 'ConversationPinned':
      return { ...base, ...placedBy(state, event.data, event.data.shardId, version) };
    case 'ConversationMigrationStarted':
      return {
        ...base,
        migration: {
          migrationId: event.data.migrationId,
          fromShardId: event.data.fromShardId,
          version,
        },
      };
    case 'ConversationMigrated': {
      const { migrationId, toShardId } = event.data;
      return {
        ...base,
        ...placedBy(state, event.data, toShardId, version),
        migration: state.migration?.migrationId === migrationId ? undefined : state.migration,
        completedMigrations: { ...state.completedMigrations, [migrationId]: version },
      };
    }
    case 'ConversationClosed':
      return { ...base, status: 'closed', closedVersion: version, closedReason: event.data.reason };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * Where a pin or move leaves the stream's shard: on its shard, unless it carries an assignment
 * version older than one already recorded (it arrived after a newer placement; it stays history).
 * A record without a version (0) applies as records always did.
 */
function placedBy(
  state: ConversationDetails,
  data: { readonly assignmentVersion: number },
  shardId: string,
  version: number,
): Pick<ConversationDetails, 'shardId' | 'pinnedVersion' | 'assignmentVersion'> {
  if (data.assignmentVersion !== 0 && data.assignmentVersion <= state.assignmentVersion) {
    return {
      shardId: state.shardId,
      pinnedVersion: state.pinnedVersion,
      assignmentVersion: state.assignmentVersion,
    };
  }
  return {
    shardId,
    pinnedVersion: version,
    assignmentVersion: Math.max(state.assignmentVersion, data.assignmentVersion),
  };
}

function updateTurn(
  state: ConversationDetails,
  turnId: string,
  change: (turn: Turn) => Turn,
): ConversationDetails {
  const index = turnIndexOf(state, (turn) => turn.turnId === turnId);
  const turn = state.turns[index];
  if (turn === undefined) return state;
  const turns = state.turns.slice();
  turns[index] = change(turn);
  return { ...state, turns };
}

/** Folds events over a state; `state` defaults to the initial one. */
export function replay(
  events: Iterable<ConversationEvent>,
  state: ConversationState = initialState(),
): ConversationState {
  let current = state;
  for (const event of events) current = evolve(current, event);
  return current;
}
