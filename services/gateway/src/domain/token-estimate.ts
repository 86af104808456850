import { type ChatMessage } from './chat.js';

/**
 * A tokenizer-free estimate of prompt size: about four characters per token for English text plus
 * a few tokens of chat-template framing per message. It only sizes quota reservations and the
 * context-window check; the engine's real counts settle the quota afterwards.
 */
const CHARS_PER_TOKEN = 4;
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY_PRIMING = 3;

export function estimatePromptTokens(messages: readonly ChatMessage[], systemPrompt = ''): number {
  let tokens = TOKENS_PER_REPLY_PRIMING;
  if (systemPrompt.length > 0)
    tokens += TOKENS_PER_MESSAGE + Math.ceil(systemPrompt.length / CHARS_PER_TOKEN);
  for (const message of messages) {
    tokens += TOKENS_PER_MESSAGE + Math.ceil(message.content.length / CHARS_PER_TOKEN);
    if (message.name !== undefined) tokens += 1;
  }
  return tokens;
}

/** Tokens reserved at admission: the prompt estimate plus the most the reply may use. */
export function tokenReservation(
  promptEstimate: number,
  maxTokens: number | undefined,
  defaultCompletionReserve: number,
): number {
  return promptEstimate + (maxTokens ?? defaultCompletionReserve);
}
