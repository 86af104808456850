// Factories for decider and context tests: build commands and events with sensible defaults.
import type { ConversationCommand } from './conversation.commands.js';
import type { ConversationEvent, Message } from './conversation.events.js';

export const CONVERSATION_ID = 'conv-1';
export const TENANT_ID = 'tenant-a';
export const NOW = 1_700_000_000_000;

type CommandOf<T extends ConversationCommand['type']> = Extract<ConversationCommand, { type: T }>;
type EventOf<T extends ConversationEvent['type']> = Extract<ConversationEvent, { type: T }>;

export function command<T extends ConversationCommand['type']>(
  type: T,
  data: CommandOf<T>['data'],
): CommandOf<T> {
  return { type, conversationId: CONVERSATION_ID, data, now: NOW } as CommandOf<T>;
}

export function event<T extends ConversationEvent['type']>(
  type: T,
  data: EventOf<T>['data'],
  occurredAtMs = NOW,
): EventOf<T> {
  return { type, data, occurredAtMs } as EventOf<T>;
}

export const user = (content: string): Message => ({ role: 'user', content, name: '' });

export const started = (systemPrompt = 'You are helpful.') =>
  event('ConversationStarted', {
    conversationId: CONVERSATION_ID,
    tenantId: TENANT_ID,
    model: 'llama-3-8b',
    systemPrompt,
    labels: {},
  });

export const userTurn = (turnId: string, content = `question ${turnId}`, idempotencyKey = '') =>
  event('UserMessageAppended', { turnId, messages: [user(content)], idempotencyKey });

export const completed = (turnId: string, content = `answer ${turnId}`, shardId = 'shard-1') =>
  event('AssistantMessageCompleted', {
    turnId,
    content,
    shardId,
    finishReason: 'stop',
    usage: undefined,
    failovers: 0,
  });

export const failed = (turnId: string, errorCode = 'SHARD.UNAVAILABLE', shardId = 'shard-1') =>
  event('AssistantMessageFailed', { turnId, shardId, errorCode, errorMessage: 'shard went away' });

export const pinned = (shardId: string, assignmentVersion = 0, reason = 'new') =>
  event('ConversationPinned', { shardId, reason, assignmentVersion });
export const closed = () => event('ConversationClosed', { reason: 'user' });
