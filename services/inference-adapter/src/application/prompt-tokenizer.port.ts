import type { EngineChatMessage } from './engine.port.js';

export const PROMPT_TOKENIZER_PORT = Symbol('PromptTokenizerPort');

/**
 * Counts and hashes a prompt the way the project's reference tokenizer and chat template do, so
 * the router's context budget, the shard's reports and the simulator agree. Against a real engine
 * these are estimates; the engine's own usage at the end of a turn is authoritative.
 */
export interface PromptTokenizerPort {
  /** Prompt tokens of a chat request; a final assistant message is continued, not answered. */
  countPromptTokens(messages: readonly EngineChatMessage[]): number;
  /** Chained hashes of the prompt's full KV blocks, first block first. */
  prefixBlockHashes(messages: readonly EngineChatMessage[]): number[];
}
