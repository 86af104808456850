import type { DomainError } from '@spillway/errors';
import {
  assembleContext,
  historyOf,
  type ContextWindow,
  type TokenEstimator,
} from '../domain/context-window.js';
import { invalidField } from '../domain/conversation.errors.js';
import { pendingTurn, type ConversationDetails } from '../domain/conversation.state.js';
import type {
  ConversationEventStore,
  ConversationPage,
  Result,
  StreamSlice,
} from './ports/conversation-event-store.port.js';

/** The largest budget accepted; anything above is a caller bug (or a negative number sent as uint32). */
export const MAX_TOKEN_BUDGET = 10_000_000;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

/** Why `tokenBudget` is not a budget to assemble a context under, naming `field`; or undefined. */
export function tokenBudgetProblem(tokenBudget: number, field: string): DomainError | undefined {
  if (Number.isInteger(tokenBudget) && tokenBudget > 0 && tokenBudget <= MAX_TOKEN_BUDGET) {
    return undefined;
  }
  return invalidField(field, `must be between 1 and ${MAX_TOKEN_BUDGET} tokens`);
}

export interface ContextForTurn {
  readonly conversation: ConversationDetails;
  readonly window: ContextWindow;
  readonly pendingTurnId: string;
}

export class ConversationQueries {
  constructor(
    private readonly store: ConversationEventStore,
    private readonly tokens: TokenEstimator,
  ) {}

  async context(
    tenantId: string,
    conversationId: string,
    tokenBudget: number,
  ): Promise<Result<ContextForTurn>> {
    const problem = tokenBudgetProblem(tokenBudget, 'token_budget');
    if (problem) return { ok: false, error: problem };
    const loaded = await this.store.load(tenantId, conversationId);
    if (!loaded.ok) return loaded;
    return { ok: true, value: this.contextOf(loaded.value, tokenBudget) };
  }

  /** The context for the next turn of a conversation already at hand (just appended to). */
  contextOf(conversation: ConversationDetails, tokenBudget: number): ContextForTurn {
    return {
      conversation,
      window: assembleContext(conversation, tokenBudget, this.tokens),
      pendingTurnId: pendingTurn(conversation)?.turnId ?? '',
    };
  }

  async conversation(
    tenantId: string,
    conversationId: string,
  ): Promise<Result<{ conversation: ConversationDetails; history: ReturnType<typeof historyOf> }>> {
    const loaded = await this.store.load(tenantId, conversationId);
    if (!loaded.ok) return loaded;
    return { ok: true, value: { conversation: loaded.value, history: historyOf(loaded.value) } };
  }

  read(
    tenantId: string,
    conversationId: string,
    fromVersion: number,
    maxCount: number,
  ): Promise<Result<StreamSlice>> {
    return this.store.read(tenantId, conversationId, fromVersion, maxCount);
  }

  list(tenantId: string, pageSize: number, pageToken: string): Promise<Result<ConversationPage>> {
    if (pageSize > MAX_PAGE_SIZE)
      return Promise.resolve({
        ok: false,
        error: invalidField('page_size', `must be at most ${MAX_PAGE_SIZE}`),
      });
    return this.store.list(tenantId, pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize, pageToken);
  }
}
