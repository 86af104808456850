// The public API of @spillway/gpu-sim for other packages (the inference adapter, the router,
// tests): the tokenizer and the deterministic reply text, so they can count prompt tokens the way
// gpu-sim does and compute exactly what a simulated shard will answer.
export {
  countTokens,
  tokenPieces,
  tokenize,
  tokenIdOf,
  MAX_LETTERS_PER_TOKEN,
  MAX_DIGITS_PER_TOKEN,
} from './domain/tokenizer.js';
export {
  applyChatTemplate,
  chatPromptTokens,
  countChatPromptTokens,
  continuesFinalMessage,
  BEGIN_OF_TEXT_ID,
  SPECIAL_TOKENS,
  type ChatRole,
  type ChatTurn,
} from './domain/chat-template.js';
export {
  planChatReply,
  planCompletionReply,
  replyStreamFor,
  replyToken,
  replyText,
  continuationOffset,
  MIN_NATURAL_REPLY_TOKENS,
  MAX_NATURAL_REPLY_TOKENS,
  type ChatReplyRequest,
  type CompletionReplyRequest,
  type FinishReason,
  type PlannedReply,
  type ReplyLimits,
  type ReplyStream,
} from './domain/reply-text.js';
export { chainBlockHash, promptBlockHashes, ROOT_BLOCK_HASH } from './domain/hash.js';
export type { EngineProfile, StepTiming } from './domain/engine-profile.js';
