import { countTokens, tokenize } from './tokenizer.js';

/**
 * A Llama-3-shaped chat template over the simulator's tokenizer. Each message costs its content
 * tokens plus 5 template tokens (`<|start_header_id|>`, role, `<|end_header_id|>`, "\n\n",
 * `<|eot_id|>`); a prompt starts with `<|begin_of_text|>` and ends with the assistant header when a
 * reply is to be generated. The shape matters for prefix caching: turn N+1's prompt starts with
 * turn N's prompt followed by turn N's reply, exactly as with a real Llama 3 template.
 */

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface ChatTurn {
  readonly role: ChatRole;
  readonly content: string;
}

export const SPECIAL_TOKENS = {
  beginOfText: 1,
  startHeader: 2,
  endHeader: 3,
  headerNewlines: 4,
  endOfTurn: 5,
  role: { system: 10, developer: 11, user: 12, assistant: 13, tool: 14 } satisfies Record<
    ChatRole,
    number
  >,
} as const;

/** `<|begin_of_text|>`, also prepended to plain-text completion prompts. */
export const BEGIN_OF_TEXT_ID = SPECIAL_TOKENS.beginOfText;

export const TEMPLATE_TOKENS_PER_MESSAGE = 5;
export const TEMPLATE_TOKENS_PER_PROMPT = 1;
export const GENERATION_PROMPT_TOKENS = 4;

function pushHeader(role: ChatRole, into: number[]): void {
  into.push(
    SPECIAL_TOKENS.startHeader,
    SPECIAL_TOKENS.role[role],
    SPECIAL_TOKENS.endHeader,
    SPECIAL_TOKENS.headerNewlines,
  );
}

export interface TemplateOptions {
  /** Append the assistant header so the model answers next (OpenAI's normal case). */
  readonly addGenerationPrompt: boolean;
  /**
   * Leave the last message open (no end-of-turn token) so the model continues it; vLLM's
   * `continue_final_message`. The last message must then be the assistant's.
   */
  readonly continueFinalMessage?: boolean;
}

/** The prompt token ids of a conversation. */
export function applyChatTemplate(
  messages: readonly ChatTurn[],
  options: TemplateOptions,
): number[] {
  const ids: number[] = [SPECIAL_TOKENS.beginOfText];
  messages.forEach((message, index) => {
    pushHeader(message.role, ids);
    tokenize(message.content, ids);
    const open = options.continueFinalMessage === true && index === messages.length - 1;
    if (!open) ids.push(SPECIAL_TOKENS.endOfTurn);
  });
  if (options.addGenerationPrompt && options.continueFinalMessage !== true)
    pushHeader('assistant', ids);
  return ids;
}

/**
 * Whether the server treats this conversation as "continue the assistant's unfinished message": it
 * does whenever the last message is the assistant's (see reply-text.ts for the continuation rule).
 */
export function continuesFinalMessage(messages: readonly ChatTurn[]): boolean {
  return messages.length > 0 && messages[messages.length - 1]?.role === 'assistant';
}

/** The prompt token ids gpu-sim computes for a chat request. */
export function chatPromptTokens(messages: readonly ChatTurn[]): number[] {
  return applyChatTemplate(messages, {
    addGenerationPrompt: true,
    continueFinalMessage: continuesFinalMessage(messages),
  });
}

/** `chatPromptTokens(messages).length`, without building the ids. */
export function countChatPromptTokens(messages: readonly ChatTurn[]): number {
  let count = TEMPLATE_TOKENS_PER_PROMPT;
  for (const message of messages)
    count += TEMPLATE_TOKENS_PER_MESSAGE + countTokens(message.content);
  return continuesFinalMessage(messages) ? count - 1 : count + GENERATION_PROMPT_TOKENS;
}
