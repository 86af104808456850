import type { AssignmentView } from '../../domain/index.js';
import type { ConversationPort } from '../conversation.port.js';
import { withShard, type ConversationView } from '../conversation-view.js';

export class GetConversation {
  constructor(
    private readonly conversations: ConversationPort,
    private readonly assignments: AssignmentView,
  ) {}

  async execute(tenantId: string, conversationId: string): Promise<ConversationView> {
    return withShard(await this.conversations.get(tenantId, conversationId), this.assignments);
  }
}
