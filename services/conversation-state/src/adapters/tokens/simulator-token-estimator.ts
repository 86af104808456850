import { countTokens } from '@spillway/gpu-sim';
import type { TokenEstimator } from '../../domain/context-window.js';

/**
 * gpu-sim's token count: its tokenizer and its Llama-3-shaped chat template costs
 * (`countChatPromptTokens`). A context cut to a budget here is then the prompt size a simulated
 * shard reports. The spec pins the numbers gpu-sim produces today.
 */
export { countTokens };

export function simulatorTokenEstimator(): TokenEstimator {
  return {
    countText: countTokens,
    tokensPerMessage: 5,
    tokensPerPrompt: 1,
    generationPromptTokens: 4,
  };
}
