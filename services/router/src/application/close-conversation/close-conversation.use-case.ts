import type { AssignmentView } from '../../domain/index.js';
import type { ConversationPort } from '../conversation.port.js';
import { withShard, type ConversationView } from '../conversation-view.js';

/** Closes a conversation: no more turns. Closing it again is harmless. */
export class CloseConversation {
  constructor(
    private readonly conversations: ConversationPort,
    private readonly assignments: AssignmentView,
  ) {}

  async execute(tenantId: string, conversationId: string): Promise<ConversationView> {
    return withShard(await this.conversations.close(tenantId, conversationId), this.assignments);
  }
}
