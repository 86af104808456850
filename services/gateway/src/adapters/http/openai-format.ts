import {
  type CompletedTurn,
  type Conversation,
  type FinishReason,
  type ModelInfo,
  type Usage,
} from '../../domain/chat.js';

/** Domain → OpenAI's JSON shapes (and Spillway's conversation shapes beside them). */

export function completionId(turnId: string): string {
  return `chatcmpl-${turnId}`;
}

export function openAiFinishReason(reason: FinishReason): string {
  switch (reason) {
    case 'stop':
    case 'length':
      return reason;
    // A cancelled turn stopped early at the client's or operator's request.
    case 'cancelled':
      return 'stop';
    default: {
      const unhandled: never = reason;
      return unhandled;
    }
  }
}

export function openAiUsage(usage: Usage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
  };
}

export function chatCompletion(turn: CompletedTurn) {
  return {
    id: completionId(turn.turnId),
    object: 'chat.completion' as const,
    created: turn.createdAt,
    model: turn.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: turn.content, refusal: null },
        logprobs: null,
        finish_reason: openAiFinishReason(turn.finishReason),
      },
    ],
    usage: openAiUsage(turn.usage),
    ...(turn.conversationId !== undefined ? { conversation_id: turn.conversationId } : {}),
  };
}

export interface ChunkContext {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly includeUsage: boolean;
  readonly conversationId?: string;
}

function chunkBase(context: ChunkContext) {
  return {
    id: context.id,
    object: 'chat.completion.chunk' as const,
    created: context.created,
    model: context.model,
    system_fingerprint: null,
    ...(context.conversationId !== undefined ? { conversation_id: context.conversationId } : {}),
  };
}

export function roleChunk(context: ChunkContext) {
  return {
    ...chunkBase(context),
    choices: [
      {
        index: 0,
        delta: { role: 'assistant' as const, content: '' },
        logprobs: null,
        finish_reason: null,
      },
    ],
    ...(context.includeUsage ? { usage: null } : {}),
  };
}

export function contentChunk(context: ChunkContext, text: string) {
  return {
    ...chunkBase(context),
    choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }],
    ...(context.includeUsage ? { usage: null } : {}),
  };
}

export function finishChunk(context: ChunkContext, reason: FinishReason) {
  return {
    ...chunkBase(context),
    choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: openAiFinishReason(reason) }],
    ...(context.includeUsage ? { usage: null } : {}),
  };
}

/**
 * `JSON.stringify(contentChunk(context, text))` with the part that is the same for every token of
 * a turn encoded once: a streamed reply serialises one string per token instead of an object.
 */
export function contentChunkEncoder(context: ChunkContext): (text: string) => string {
  const base = JSON.stringify(chunkBase(context));
  const head = `${base.slice(0, -1)},"choices":[{"index":0,"delta":{"content":`;
  const tail = `},"logprobs":null,"finish_reason":null}]${context.includeUsage ? ',"usage":null' : ''}}`;
  return (text) => head + JSON.stringify(text) + tail;
}

/** With `stream_options.include_usage`: one last chunk with no choices and the usage. */
export function usageChunk(context: ChunkContext, usage: Usage) {
  return { ...chunkBase(context), choices: [], usage: openAiUsage(usage) };
}

export function modelList(models: readonly ModelInfo[]) {
  return {
    object: 'list' as const,
    data: models.map((model) => ({
      id: model.id,
      object: 'model' as const,
      created: Math.floor(model.createdAtMs / 1000),
      owned_by: model.ownedBy,
      ...(model.contextWindowTokens > 0 ? { context_window: model.contextWindowTokens } : {}),
    })),
  };
}

export function conversationView(conversation: Conversation, withMessages = true) {
  return {
    id: conversation.id,
    object: 'conversation' as const,
    model: conversation.model,
    system_prompt: conversation.systemPrompt,
    created_at: Math.floor(conversation.createdAtMs / 1000),
    closed: conversation.closed,
    version: conversation.version,
    labels: conversation.labels,
    message_count: conversation.messages.length,
    ...(withMessages
      ? {
          messages: conversation.messages.map((m) => ({
            role: m.role,
            content: m.content,
            ...(m.name !== undefined ? { name: m.name } : {}),
          })),
        }
      : {}),
  };
}
