import type { ConversationCommand } from '../domain/conversation.commands.js';
import { decide } from '../domain/conversation.decider.js';
import type { ConversationState } from '../domain/conversation.state.js';
import type { Clock, IdGenerator } from './ports/clock.port.js';
import type {
  AppendOutcome,
  ConversationEventStore,
  EventMetadata,
  Result,
} from './ports/conversation-event-store.port.js';

/** Correlation and trace context a caller attaches to a command. */
export type CommandMetadata = Omit<EventMetadata, 'idempotencyKey'>;

type DataOf<T extends ConversationCommand['type']> = Extract<
  ConversationCommand,
  { type: T }
>['data'];

export interface CommandTarget {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly expectedVersion?: number | undefined;
  readonly metadata: CommandMetadata;
}

/**
 * The write use cases: build the command (time and ids from ports), then let the store decide it
 * against the locked, current state and append what the decider returns.
 */
export class ConversationCommands {
  constructor(
    private readonly store: ConversationEventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  start(
    target: Omit<CommandTarget, 'expectedVersion'>,
    data: DataOf<'StartConversation'>,
  ): Promise<Result<AppendOutcome>> {
    const conversationId = target.conversationId === '' ? this.ids.newId() : target.conversationId;
    return this.execute({ ...target, conversationId }, 'create', {
      type: 'StartConversation',
      data,
    });
  }

  appendUserMessage(
    target: CommandTarget,
    data: DataOf<'AppendUserMessage'>,
  ): Promise<Result<AppendOutcome>> {
    const turnId = data.turnId === '' ? this.ids.newId() : data.turnId;
    return this.execute(
      target,
      'update',
      { type: 'AppendUserMessage', data: { ...data, turnId } },
      data.idempotencyKey,
    );
  }

  completeAssistantMessage(
    target: CommandTarget,
    data: DataOf<'CompleteAssistantMessage'>,
  ): Promise<Result<AppendOutcome>> {
    return this.execute(target, 'update', { type: 'CompleteAssistantMessage', data });
  }

  failAssistantMessage(
    target: CommandTarget,
    data: DataOf<'FailAssistantMessage'>,
  ): Promise<Result<AppendOutcome>> {
    return this.execute(target, 'update', { type: 'FailAssistantMessage', data });
  }

  pin(target: CommandTarget, data: DataOf<'PinConversation'>): Promise<Result<AppendOutcome>> {
    return this.execute(target, 'update', { type: 'PinConversation', data });
  }

  startMigration(
    target: CommandTarget,
    data: DataOf<'StartMigration'>,
  ): Promise<Result<AppendOutcome>> {
    return this.execute(target, 'update', { type: 'StartMigration', data });
  }

  completeMigration(
    target: CommandTarget,
    data: DataOf<'CompleteMigration'>,
  ): Promise<Result<AppendOutcome>> {
    return this.execute(target, 'update', { type: 'CompleteMigration', data });
  }

  close(target: CommandTarget, data: DataOf<'CloseConversation'>): Promise<Result<AppendOutcome>> {
    return this.execute(target, 'update', { type: 'CloseConversation', data });
  }

  private execute(
    target: CommandTarget,
    intent: 'create' | 'update',
    command: { readonly type: ConversationCommand['type']; readonly data: unknown },
    idempotencyKey = '',
  ): Promise<Result<AppendOutcome>> {
    const full = {
      ...command,
      conversationId: target.conversationId,
      now: this.clock.nowMs(),
    } as ConversationCommand;
    return this.store.append({
      tenantId: target.tenantId,
      conversationId: target.conversationId,
      intent,
      expectedVersion: target.expectedVersion,
      metadata: { ...target.metadata, idempotencyKey },
      dedupeByMetadataKey: false,
      decide: (state: ConversationState) => decide(full, state),
    });
  }
}
