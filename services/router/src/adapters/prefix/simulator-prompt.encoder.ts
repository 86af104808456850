import { chainBlockHash, chatPromptTokens, countTokens, ROOT_BLOCK_HASH } from '@spillway/gpu-sim';
import type { ConversationMessage, EncodedPrompt, PromptEncoder } from '../../application/index.js';
import { prefixBlockHashes, VLLM_BLOCK_TOKENS, type BlockHashing } from '../../domain/index.js';

/** gpu-sim's block hash, the one its prefix cache keys KV blocks by and the adapters report. */
export const SIMULATOR_BLOCK_HASHING: BlockHashing = {
  blockTokens: VLLM_BLOCK_TOKENS,
  rootHash: ROOT_BLOCK_HASH,
  chain: chainBlockHash,
};

/**
 * The project's reference tokenizer, Llama-3-shaped chat template and block hash, all from
 * @spillway/gpu-sim (the single source the shards' adapters hash their served prompts with), so the
 * router's prompt blocks are the blocks shards report in `recent_prefix_blocks`. Against real
 * engines it is a close estimate of their counts; the prefix match only needs shards and router to
 * agree.
 */
export class SimulatorPromptEncoder implements PromptEncoder {
  encode(messages: readonly ConversationMessage[]): EncodedPrompt {
    const tokens = chatPromptTokens(messages);
    return {
      promptTokens: tokens.length,
      blocks: prefixBlockHashes(tokens, SIMULATOR_BLOCK_HASHING),
    };
  }

  countTextTokens(text: string): number {
    return countTokens(text);
  }
}
