import type { ConversationMessage } from './conversation.port.js';

export interface EncodedPrompt {
  /** Prompt tokens as the shards count them (chat template included). */
  readonly promptTokens: number;
  /** Chained prefix block hashes of the prompt, first block first, as shards report them. */
  readonly blocks: readonly number[];
}

/**
 * Turns a prompt into the token count and prefix block hashes the shards compute, so the router's
 * prefix match is against the very hashes shards put in their load reports.
 */
export interface PromptEncoder {
  encode(messages: readonly ConversationMessage[]): EncodedPrompt;
  /**
   * Tokens in a piece of reply text (a stream delta carries one or more whole tokens): for
   * TokenDelta indexes and for the max_tokens left to a resumed stream.
   */
  countTextTokens(text: string): number;
}
