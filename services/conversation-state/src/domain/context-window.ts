import type { Message } from './conversation.events.js';
import type { ConversationDetails, Turn } from './conversation.state.js';

/**
 * How prompts are counted. The numbers must match the engine's chat template, so that a context cut
 * to fit here also fits there; the implementation lives behind this port (see adapters/tokens).
 */
export interface TokenEstimator {
  countText(text: string): number;
  /** Template tokens around each message (header, role, end of turn). */
  readonly tokensPerMessage: number;
  /** Tokens every prompt starts with (begin-of-text). */
  readonly tokensPerPrompt: number;
  /** The assistant header appended when the model is to answer next. */
  readonly generationPromptTokens: number;
}

export interface ContextWindow {
  /** System prompt first, then the kept turns, oldest first. */
  readonly messages: readonly Message[];
  readonly estimatedTokens: number;
  /** Messages left out, all from the oldest turns. */
  readonly droppedMessages: number;
  readonly droppedTurns: number;
  /** False when even the system prompt and the latest turn exceed the budget (they are kept anyway). */
  readonly withinBudget: boolean;
}

/** The messages a turn contributes to the history: failed turns contribute nothing. */
export function turnMessages(turn: Turn): readonly Message[] {
  switch (turn.status) {
    case 'failed':
      return [];
    case 'pending':
    case 'superseded':
      return turn.messages;
    case 'completed':
      return turn.reply
        ? [...turn.messages, { role: 'assistant', content: turn.reply.content, name: '' }]
        : turn.messages;
    default: {
      const unhandled: never = turn.status;
      return unhandled;
    }
  }
}

/** The whole history as the model sees it, with no budget. */
export function historyOf(conversation: ConversationDetails): Message[] {
  const messages: Message[] = systemMessages(conversation);
  for (const turn of conversation.turns) messages.push(...turnMessages(turn));
  return messages;
}

function systemMessages(conversation: ConversationDetails): Message[] {
  return conversation.systemPrompt === ''
    ? []
    : [{ role: 'system', content: conversation.systemPrompt, name: '' }];
}

/**
 * Cuts the history to `budget` tokens: the system prompt always stays, whole turns are dropped
 * oldest first, and the latest turn always stays (the engine cannot answer without it). The cut is
 * deterministic: the same history and budget always give the same window.
 */
export function assembleContext(
  conversation: ConversationDetails,
  budget: number,
  estimator: TokenEstimator,
): ContextWindow {
  const system = systemMessages(conversation);
  const turns = conversation.turns.map(turnMessages).filter((messages) => messages.length > 0);
  const cost = (message: Message): number =>
    estimator.tokensPerMessage + estimator.countText(message.content);
  const turnCosts = turns.map((messages) =>
    messages.reduce((sum, message) => sum + cost(message), 0),
  );
  const lastMessage = turns[turns.length - 1]?.at(-1) ?? system[0];
  // The engine continues an assistant message in place (no generation prompt, open last turn).
  const closing = lastMessage?.role === 'assistant' ? -1 : estimator.generationPromptTokens;
  let total =
    estimator.tokensPerPrompt + closing + system.reduce((sum, message) => sum + cost(message), 0);
  for (const turnCost of turnCosts) total += turnCost;

  let firstKept = 0;
  while (total > budget && firstKept < turns.length - 1) {
    total -= turnCosts[firstKept] ?? 0;
    firstKept++;
  }
  const kept = turns.slice(firstKept);
  const dropped = turns.slice(0, firstKept);
  return {
    messages: [...system, ...kept.flat()],
    estimatedTokens: total,
    droppedMessages: dropped.reduce((sum, messages) => sum + messages.length, 0),
    droppedTurns: dropped.length,
    withinBudget: total <= budget,
  };
}
