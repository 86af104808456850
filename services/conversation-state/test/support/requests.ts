import { randomUUID } from 'node:crypto';
import { common, type conversation, events } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import type { ConversationStoreClient } from './harness.js';

// Factories for complete requests (the generated codecs take whole messages, no partials).

const noMetadata = (): conversation.EventMetadata => ({
  correlationId: '',
  causationId: '',
  traceparent: '',
  idempotencyKey: '',
});

export const userMessage = (content: string): common.ChatMessage => ({
  role: common.Role.ROLE_USER,
  content,
  name: '',
});

export function startRequest(
  tenantId: string,
  overrides: Partial<conversation.StartConversationRequest> = {},
): conversation.StartConversationRequest {
  return {
    tenantId,
    conversationId: randomUUID(),
    model: 'llama-3-8b',
    systemPrompt: 'You are a helpful assistant.',
    labels: {},
    metadata: noMetadata(),
    ...overrides,
  };
}

export function userRequest(
  tenantId: string,
  conversationId: string,
  content: string,
  overrides: Partial<conversation.AppendUserMessageRequest> = {},
): conversation.AppendUserMessageRequest {
  return {
    tenantId,
    conversationId,
    turnId: '',
    messages: [userMessage(content)],
    idempotencyKey: '',
    metadata: noMetadata(),
    contextTokenBudget: 0,
    ...overrides,
  };
}

export function completeRequest(
  tenantId: string,
  conversationId: string,
  turnId: string,
  content: string,
  overrides: Partial<conversation.CompleteAssistantMessageRequest> = {},
): conversation.CompleteAssistantMessageRequest {
  return {
    tenantId,
    conversationId,
    turnId,
    content,
    shardId: 'shard-1',
    finishReason: common.FinishReason.FINISH_REASON_STOP,
    usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15, cachedPromptTokens: 0 },
    failovers: 0,
    metadata: noMetadata(),
    ...overrides,
  };
}

/** A StoredEvent for AppendEvents carrying `body`. */
export function storedEvent(
  type: string,
  body: NonNullable<events.ConversationEvent['event']>,
  metadata: Partial<conversation.EventMetadata> = {},
): conversation.StoredEvent {
  const payload = events.ConversationEvent.encode({
    conversationId: '',
    tenantId: '',
    version: 0,
    occurredAtMs: Date.now(),
    event: body,
  }).finish();
  return {
    eventId: randomUUID(),
    conversationId: '',
    tenantId: '',
    version: 0,
    globalPosition: 0,
    type,
    schemaVersion: 0,
    payload: Buffer.from(payload),
    metadata: { ...noMetadata(), ...metadata },
    occurredAtMs: 0,
  };
}

export const userEvent = (turnId: string, content: string, idempotencyKey = '') =>
  storedEvent('UserMessageAppended', {
    $case: 'userMessageAppended',
    value: { turnId, messages: [userMessage(content)], idempotencyKey },
  });

export const startedEvent = (model = 'llama-3-8b', systemPrompt = 'Be brief.') =>
  storedEvent('ConversationStarted', {
    $case: 'started',
    value: { model, systemPrompt, labels: {} },
  });

/** The DomainError a failed call became (the client translates statuses back to domain codes). */
export async function refusal(call: Promise<unknown>): Promise<DomainError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected the call to be refused');
}

/** A new stream of `tenantId` holding only ConversationStarted (raw append); its id. */
export async function startedStream(
  client: ConversationStoreClient,
  tenantId: string,
): Promise<string> {
  const conversationId = randomUUID();
  await client.appendEvents({
    tenantId,
    conversationId,
    expectedVersion: 0,
    events: [startedEvent()],
  });
  return conversationId;
}
