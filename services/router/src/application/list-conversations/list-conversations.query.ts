import { DomainError } from '@spillway/errors';
import type { AssignmentView } from '../../domain/index.js';
import type { ConversationPort } from '../conversation.port.js';
import { withShard, type ConversationView } from '../conversation-view.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export class ListConversations {
  constructor(
    private readonly conversations: ConversationPort,
    private readonly assignments: AssignmentView,
  ) {}

  async execute(
    tenantId: string,
    pageSize: number,
    pageToken: string,
  ): Promise<{ conversations: ConversationView[]; nextPageToken: string }> {
    if (pageSize > MAX_PAGE_SIZE) {
      throw new DomainError('REQUEST.INVALID', `page_size may be at most ${MAX_PAGE_SIZE}`, {
        details: { field: 'page_size' },
      });
    }
    const page = await this.conversations.list(
      tenantId,
      pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize,
      pageToken,
    );
    return {
      conversations: page.conversations.map((record) => withShard(record, this.assignments)),
      nextPageToken: page.nextPageToken,
    };
  }
}
