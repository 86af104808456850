import type { ConversationCommand } from '../domain/conversation.commands.js';
import { decide, type Decision } from '../domain/conversation.decider.js';
import type { ConversationEvent } from '../domain/conversation.events.js';
import { evolve, type ConversationState } from '../domain/conversation.state.js';
import type {
  AppendOutcome,
  ConversationEventStore,
  EventMetadata,
  Result,
  StoreDecision,
  SubmittedEvent,
} from './ports/conversation-event-store.port.js';

/** A submitted event's eventId is a UUID chosen by the caller, or '' for a new one. */
export type { SubmittedEvent };

export interface AppendEventsInput {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly expectedVersion: number;
  readonly events: readonly SubmittedEvent[];
  readonly metadata: EventMetadata;
}

/** The command that would have produced `event`: raw appends obey the same rules as commands. */
export function commandFor(conversationId: string, event: ConversationEvent): ConversationCommand {
  const now = event.occurredAtMs;
  switch (event.type) {
    case 'ConversationStarted': {
      const { tenantId, model, systemPrompt, labels } = event.data;
      return {
        type: 'StartConversation',
        conversationId,
        now,
        data: { tenantId, model, systemPrompt, labels },
      };
    }
    case 'UserMessageAppended':
      return { type: 'AppendUserMessage', conversationId, now, data: event.data };
    case 'AssistantMessageCompleted':
      return { type: 'CompleteAssistantMessage', conversationId, now, data: event.data };
    case 'AssistantMessageFailed':
      return { type: 'FailAssistantMessage', conversationId, now, data: event.data };
    case 'ConversationPinned':
      return { type: 'PinConversation', conversationId, now, data: event.data };
    case 'ConversationMigrationStarted':
      return { type: 'StartMigration', conversationId, now, data: event.data };
    case 'ConversationMigrated':
      return { type: 'CompleteMigration', conversationId, now, data: event.data };
    case 'ConversationClosed':
      return { type: 'CloseConversation', conversationId, now, data: event.data };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * Decides each submitted event as its command, in order, against the state the earlier ones
 * produce. A rejection rejects the batch; events the decider finds already recorded are skipped.
 */
export function decideBatch(
  conversationId: string,
  submitted: readonly SubmittedEvent[],
  state: ConversationState,
): StoreDecision {
  const events: ConversationEvent[] = [];
  const eventIds: string[] = [];
  let current = state;
  let lastUnchanged: Decision | undefined;
  for (const { eventId, event } of submitted) {
    const decision = decide(commandFor(conversationId, event), current);
    if (decision.outcome === 'rejected') return decision;
    if (decision.outcome === 'unchanged') {
      lastUnchanged = decision;
      continue;
    }
    for (const decided of decision.events) {
      events.push(decided);
      eventIds.push(eventId);
      current = evolve(current, decided);
    }
  }
  if (events.length === 0 && lastUnchanged) return lastUnchanged;
  return { outcome: 'accepted', events, eventIds };
}

/** AppendEvents: the raw, optimistic-concurrency append for callers that build events themselves. */
export class AppendEvents {
  constructor(
    private readonly store: ConversationEventStore,
    private readonly newId: () => string,
  ) {}

  execute(input: AppendEventsInput): Promise<Result<AppendOutcome>> {
    const submitted = input.events.map((event) => ({
      ...event,
      eventId: event.eventId === '' ? this.newId() : event.eventId,
    }));
    return this.store.append({
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      intent: input.expectedVersion === 0 ? 'create' : 'update',
      expectedVersion: input.expectedVersion,
      metadata: input.metadata,
      dedupeByMetadataKey: true,
      submitted,
      decide: (state) => decideBatch(input.conversationId, submitted, state),
    });
  }
}
