import type { ConversationDetails } from '../../domain/conversation.state.js';

/**
 * Recently used conversation states, keyed by id and trusted only at the exact version the stream
 * row shows: events are immutable, so a state at version v is the state at version v forever.
 */
export class StateCache {
  private readonly entries = new Map<string, ConversationDetails>();

  constructor(private readonly capacity: number) {}

  get(conversationId: string, version: number): ConversationDetails | undefined {
    const state = this.entries.get(conversationId);
    if (!state || state.version !== version) return undefined;
    // Map keeps insertion order: re-inserting marks the entry as most recently used.
    this.entries.delete(conversationId);
    this.entries.set(conversationId, state);
    return state;
  }

  peek(conversationId: string): ConversationDetails | undefined {
    return this.entries.get(conversationId);
  }

  set(state: ConversationDetails): void {
    if (this.capacity <= 0) return;
    // Concurrent appends may finish out of order; never replace a newer state with an older one.
    const current = this.entries.get(state.conversationId);
    if (current && current.version > state.version) return;
    this.entries.delete(state.conversationId);
    this.entries.set(state.conversationId, state);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
