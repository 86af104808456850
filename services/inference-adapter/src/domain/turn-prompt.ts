/** A chat message as the turn's prompt carries it. */
export interface PromptMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
  readonly name?: string;
}

export interface TurnPrompt {
  readonly messages: readonly PromptMessage[];
  /** The last message is the reply so far: the engine continues it instead of answering it. */
  readonly continueFinalMessage: boolean;
}

/**
 * The prompt of a turn. A resumed turn (another shard failed mid-reply) carries the text the
 * client already has; it goes to the engine as an open assistant message to be continued, so the
 * client's full reply is `resumeFromText` + what this shard streams, with nothing repeated and
 * nothing skipped. The text is passed verbatim: trimming a trailing space would shift where the
 * continuation starts.
 */
export function turnPrompt(messages: readonly PromptMessage[], resumeFromText: string): TurnPrompt {
  if (resumeFromText.length === 0) return { messages, continueFinalMessage: false };
  return {
    messages: [...messages, { role: 'assistant', content: resumeFromText }],
    continueFinalMessage: true,
  };
}
