import { chatPromptTokens, countChatPromptTokens } from '@spillway/gpu-sim';
import type { EngineChatMessage } from '../../application/engine.port.js';
import type { PromptTokenizerPort } from '../../application/prompt-tokenizer.port.js';
import { chainBlockHash, ROOT_BLOCK_HASH } from './block-hash.js';

/** vLLM's default KV block size, and gpu-sim's. */
export const PREFIX_BLOCK_TOKENS = 16;

/**
 * The project's reference tokenizer and Llama-3-shaped chat template (published by gpu-sim), so a
 * shard's prompt counts and prefix block hashes are the ones the simulator computes and the router
 * can recompute. Against a real engine they are close estimates; the engine's usage is authoritative.
 */
export class SimPromptTokenizer implements PromptTokenizerPort {
  countPromptTokens(messages: readonly EngineChatMessage[]): number {
    return countChatPromptTokens(messages);
  }

  prefixBlockHashes(messages: readonly EngineChatMessage[]): number[] {
    const ids = chatPromptTokens(messages);
    const hashes: number[] = [];
    let parent = ROOT_BLOCK_HASH;
    for (let start = 0; start + PREFIX_BLOCK_TOKENS <= ids.length; start += PREFIX_BLOCK_TOKENS) {
      parent = chainBlockHash(parent, ids, start, start + PREFIX_BLOCK_TOKENS);
      hashes.push(parent);
    }
    return hashes;
  }
}
