import type { Assignment } from '../../domain/assignment.js';
import { checkId } from '../../domain/validation.js';
import type { AssignmentMap } from '../assignments/assignment-map.js';

/** Served from memory. */
export class GetAssignmentQuery {
  constructor(private readonly assignments: AssignmentMap) {}

  execute(conversationId: string): Assignment | undefined {
    const problem = checkId('conversation_id', conversationId);
    if (problem) throw problem;
    return this.assignments.get(conversationId);
  }
}
