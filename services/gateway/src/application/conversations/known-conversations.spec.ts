import { type Conversation } from '../../domain/chat.js';
import { estimatePromptTokens } from '../../domain/token-estimate.js';
import { KnownConversations } from './known-conversations.js';

function aConversation(overrides: Partial<Conversation> = {}): Conversation {
  return {
    id: 'c-1',
    tenantId: 'alice',
    model: 'm',
    systemPrompt: 'Be brief.',
    messages: [{ role: 'user', content: 'hello there' }],
    closed: false,
    createdAtMs: 0,
    version: 3,
    labels: {},
    ...overrides,
  };
}

describe('KnownConversations', () => {
  it("knows a conversation as its tenant's only, with its history's size", () => {
    const known = new KnownConversations();
    const conversation = aConversation();
    known.remember(conversation);
    expect(known.get('alice', 'c-1')).toEqual({
      id: 'c-1',
      tenantId: 'alice',
      model: 'm',
      closed: false,
      historyTokens: estimatePromptTokens(conversation.messages, 'Be brief.'),
    });
    expect(known.get('bob', 'c-1')).toBeUndefined();
    expect(known.get('alice', 'c-2')).toBeUndefined();
  });

  it('learns the history size from each completed turn, and remembers a close', () => {
    const known = new KnownConversations();
    known.remember(aConversation());
    known.turnCompleted('c-1', 120, 30);
    expect(known.get('alice', 'c-1')?.historyTokens).toBe(150);
    known.closed('c-1');
    expect(known.get('alice', 'c-1')?.closed).toBe(true);
    // Unknown conversations are ignored.
    known.turnCompleted('c-9', 1, 1);
    known.closed('c-9');
    expect(known.get('alice', 'c-9')).toBeUndefined();
  });

  it("adds a failed turn's messages to the history, which the next completed turn re-learns", () => {
    const known = new KnownConversations();
    known.remember(aConversation());
    known.turnCompleted('c-1', 120, 30);
    known.turnFailed('c-1', 12);
    known.turnFailed('c-1', 8);
    expect(known.get('alice', 'c-1')?.historyTokens).toBe(170);
    known.turnCompleted('c-1', 200, 10);
    expect(known.get('alice', 'c-1')?.historyTokens).toBe(210);
    known.turnFailed('c-9', 5);
    expect(known.get('alice', 'c-9')).toBeUndefined();
  });

  it('forgets the least recently used beyond its capacity', () => {
    const known = new KnownConversations(2);
    known.remember(aConversation({ id: 'a' }));
    known.remember(aConversation({ id: 'b' }));
    known.get('alice', 'a'); // a is now the most recently used
    known.remember(aConversation({ id: 'c' }));
    expect(known.get('alice', 'b')).toBeUndefined();
    expect(known.get('alice', 'a')).toBeDefined();
    expect(known.get('alice', 'c')).toBeDefined();
  });
});
