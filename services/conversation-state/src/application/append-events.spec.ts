import type { ConversationEvent } from '../domain/conversation.events.js';
import { closed, completed, started, userTurn } from '../domain/conversation.fixtures.js';
import { replay } from '../domain/conversation.state.js';
import { decideBatch } from './append-events.js';

const submitted = (...events: ConversationEvent[]) =>
  events.map((event, index) => ({ eventId: `id-${index}`, event }));

describe('decideBatch (raw AppendEvents)', () => {
  it('accepts a batch whose events follow the rules, keeping the caller ids', () => {
    const decision = decideBatch(
      'conv-1',
      submitted(started(), userTurn('t1'), completed('t1')),
      replay([]),
    );
    expect(decision).toMatchObject({ outcome: 'accepted', eventIds: ['id-0', 'id-1', 'id-2'] });
    expect(decision.outcome === 'accepted' && decision.events.map((event) => event.type)).toEqual([
      'ConversationStarted',
      'UserMessageAppended',
      'AssistantMessageCompleted',
    ]);
  });

  it('rejects the whole batch when one event breaks a rule', () => {
    const decision = decideBatch(
      'conv-1',
      submitted(userTurn('t2'), closed(), userTurn('t3')),
      replay([started(), userTurn('t1')]),
    );
    expect(decision.outcome === 'rejected' && decision.error.code).toBe('CONVERSATION.CLOSED');
  });

  it('rejects a second completion inside one batch', () => {
    const decision = decideBatch(
      'conv-1',
      submitted(completed('t1', 'a'), completed('t1', 'b')),
      replay([started(), userTurn('t1')]),
    );
    expect(decision.outcome === 'rejected' && decision.error.code).toBe('TURN.ALREADY_COMPLETED');
  });

  it('skips events already recorded and reports a pure repeat as unchanged', () => {
    const state = replay([started(), userTurn('t1', 'q', 'key-1'), completed('t1')]);
    expect(decideBatch('conv-1', submitted(userTurn('t9', 'q', 'key-1')), state)).toEqual({
      outcome: 'unchanged',
      version: 2,
      turnId: 't1',
    });
  });
});
