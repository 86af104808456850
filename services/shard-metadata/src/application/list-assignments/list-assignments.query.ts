import type { Assignment } from '../../domain/assignment.js';
import { invalidField } from '../../domain/errors.js';
import { checkId } from '../../domain/validation.js';
import type { AssignmentMap } from '../assignments/assignment-map.js';

export const DEFAULT_PAGE_SIZE = 500;
export const MAX_PAGE_SIZE = 5_000;

export interface ListAssignmentsRequest {
  /** Empty: every shard. */
  readonly shardId: string;
  /** 0: the default; larger than the maximum: the maximum. */
  readonly pageSize: number;
  /** From the previous page's `nextPageToken`; empty for the first page. */
  readonly pageToken: string;
}

export interface AssignmentPage {
  readonly assignments: readonly Assignment[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

/**
 * A shard's conversations, page by page in conversation-id order, read from PostgreSQL (the
 * migration saga wants the durable truth, and memory keeps no per-shard index). Pages are keyset
 * pages: assignments that move while the saga pages are seen at most once per shard.
 */
export class ListAssignmentsQuery {
  constructor(private readonly assignments: AssignmentMap) {}

  async execute(request: ListAssignmentsRequest): Promise<AssignmentPage> {
    const problem =
      (request.shardId === '' ? undefined : checkId('shard_id', request.shardId)) ??
      (Number.isSafeInteger(request.pageSize) && request.pageSize >= 0
        ? undefined
        : invalidField('page_size', 'must be >= 0'));
    if (problem) throw problem;
    const after = decodePageToken(request.pageToken);
    const limit =
      request.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(request.pageSize, MAX_PAGE_SIZE);
    const assignments = await this.assignments.listByShard(request.shardId, limit, after);
    const last = assignments.at(-1);
    return {
      assignments,
      nextPageToken:
        assignments.length === limit && last ? encodePageToken(last.conversationId) : '',
    };
  }
}

function encodePageToken(afterConversationId: string): string {
  return Buffer.from(afterConversationId, 'utf8').toString('base64url');
}

function decodePageToken(token: string): string {
  if (token === '') return '';
  const after = Buffer.from(token, 'base64url').toString('utf8');
  if (after === '' || encodePageToken(after) !== token) {
    throw invalidField(
      'page_token',
      'is not a token this server returned; pass next_page_token from the previous page',
    );
  }
  return after;
}
