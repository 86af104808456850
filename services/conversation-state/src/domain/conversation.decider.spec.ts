import { type ErrorCode } from '@spillway/errors';
import type { ConversationCommand } from './conversation.commands.js';
import { decide, type Decision } from './conversation.decider.js';
import type { ConversationEvent } from './conversation.events.js';
import {
  CONVERSATION_ID,
  NOW,
  TENANT_ID,
  closed,
  command,
  completed,
  event,
  failed,
  pinned,
  started,
  user,
  userTurn,
} from './conversation.fixtures.js';
import { evolve, replay, type ConversationState } from './conversation.state.js';

/** Given these events, when this command, then the decision. */
function given(...history: ConversationEvent[]) {
  return {
    when: (cmd: ConversationCommand): Decision => decide(cmd, replay(history)),
  };
}

/** Decides each command on the state the ones before it left, as the store does. */
function afterCommands(history: ConversationEvent[], commands: ConversationCommand[]) {
  let state: ConversationState = replay(history);
  for (const cmd of commands) {
    const decision = decide(cmd, state);
    if (decision.outcome === 'rejected') throw decision.error;
    if (decision.outcome === 'accepted') state = decision.events.reduce(evolve, state);
  }
  if (state.status === 'absent') throw new Error('no conversation');
  return state;
}

function expectEvents(decision: Decision, ...events: ConversationEvent[]): void {
  expect(decision).toEqual({ outcome: 'accepted', events });
}

function expectError(decision: Decision, code: ErrorCode, field?: string): void {
  if (decision.outcome !== 'rejected')
    throw new Error(`expected ${code}, got ${JSON.stringify(decision)}`);
  expect(decision.error.code).toBe(code);
  if (field !== undefined) expect(decision.error.details.field).toBe(field);
}

const startConversation = (
  overrides: Partial<Extract<ConversationCommand, { type: 'StartConversation' }>['data']> = {},
) =>
  command('StartConversation', {
    tenantId: TENANT_ID,
    model: 'llama-3-8b',
    systemPrompt: 'You are helpful.',
    labels: {},
    ...overrides,
  });
const appendUser = (turnId: string, content = `question ${turnId}`, idempotencyKey = '') =>
  command('AppendUserMessage', { turnId, messages: [user(content)], idempotencyKey });
const complete = (turnId: string, content = `answer ${turnId}`, shardId = 'shard-1') =>
  command('CompleteAssistantMessage', {
    turnId,
    content,
    shardId,
    finishReason: 'stop',
    usage: undefined,
    failovers: 0,
  });
const fail = (turnId: string, errorCode = 'SHARD.UNAVAILABLE', shardId = 'shard-1') =>
  command('FailAssistantMessage', { turnId, shardId, errorCode, errorMessage: 'shard went away' });
const startMigration = (migrationId: string, fromShardId = 'shard-1') =>
  command('StartMigration', { migrationId, fromShardId, reason: 'shard-failed' });
const migrate = (
  migrationId: string,
  fromShardId = 'shard-1',
  toShardId = 'shard-2',
  assignmentVersion = 0,
) =>
  command('CompleteMigration', {
    migrationId,
    fromShardId,
    toShardId,
    reason: 'shard-failed',
    assignmentVersion,
  });
const pin = (shardId: string, assignmentVersion: number) =>
  command('PinConversation', { shardId, reason: 'spill', assignmentVersion });

describe('conversation decider', () => {
  describe('StartConversation', () => {
    it('starts a new conversation', () => {
      expectEvents(
        given().when(startConversation({ labels: { app: 'x' } })),
        event('ConversationStarted', {
          conversationId: CONVERSATION_ID,
          tenantId: TENANT_ID,
          model: 'llama-3-8b',
          systemPrompt: 'You are helpful.',
          labels: { app: 'x' },
        }),
      );
    });

    it('treats the same start again as a retry', () => {
      expect(given(started()).when(startConversation())).toEqual({
        outcome: 'unchanged',
        version: 1,
      });
    });

    it('refuses a different start of an existing id', () => {
      expectError(
        given(started()).when(startConversation({ model: 'other' })),
        'CONVERSATION.VERSION_CONFLICT',
        'conversation_id',
      );
    });

    it.each([
      ['tenant_id', { tenantId: '' }],
      ['model', { model: '' }],
    ])('requires %s', (field, overrides) => {
      expectError(given().when(startConversation(overrides)), 'REQUEST.INVALID', field);
    });
  });

  describe('AppendUserMessage', () => {
    it('appends a user turn', () => {
      expectEvents(
        given(started()).when(appendUser('t1', 'hello', 'key-1')),
        userTurn('t1', 'hello', 'key-1'),
      );
    });

    it('returns the original turn for a retry with the same idempotency key', () => {
      expect(
        given(started(), userTurn('t1', 'hello', 'key-1')).when(
          appendUser('t2', 'hello again', 'key-1'),
        ),
      ).toEqual({
        outcome: 'unchanged',
        version: 2,
        turnId: 't1',
      });
    });

    it('returns the original even after the conversation closed', () => {
      expect(
        given(started(), userTurn('t1', 'hi', 'key-1'), closed()).when(
          appendUser('t9', 'hi', 'key-1'),
        ),
      ).toMatchObject({
        outcome: 'unchanged',
        turnId: 't1',
      });
    });

    it('refuses a message to a closed conversation', () => {
      expectError(given(started(), closed()).when(appendUser('t1')), 'CONVERSATION.CLOSED');
    });

    it('refuses a conversation that was never started', () => {
      const decision = given().when(appendUser('t1'));
      expectError(decision, 'CONVERSATION.NOT_FOUND');
      if (decision.outcome === 'rejected')
        expect(decision.error.message).toBe(`Conversation ${CONVERSATION_ID} was not found`);
    });

    it('refuses a reused turn id', () => {
      expectError(
        given(started(), userTurn('t1')).when(appendUser('t1')),
        'REQUEST.INVALID',
        'turn_id',
      );
    });

    it('refuses an empty turn id, no messages and empty content', () => {
      expectError(given(started()).when(appendUser('')), 'REQUEST.INVALID', 'turn_id');
      expectError(
        given(started()).when(
          command('AppendUserMessage', { turnId: 't1', messages: [], idempotencyKey: '' }),
        ),
        'REQUEST.INVALID',
        'messages',
      );
      expectError(
        given(started()).when(appendUser('t1', '')),
        'REQUEST.INVALID',
        'messages[0].content',
      );
    });

    it('accepts a new turn while one is pending, which supersedes it', () => {
      const history = [started(), userTurn('t1')];
      expectEvents(given(...history).when(appendUser('t2')), userTurn('t2'));
      expectError(given(...history, userTurn('t2')).when(complete('t1')), 'TURN.ALREADY_COMPLETED');
    });
  });

  describe('CompleteAssistantMessage', () => {
    it('completes a pending turn', () => {
      expectEvents(
        given(started(), userTurn('t1')).when(complete('t1', 'hi there')),
        completed('t1', 'hi there'),
      );
    });

    it('refuses a second, different completion of one turn', () => {
      expectError(
        given(started(), userTurn('t1'), completed('t1')).when(complete('t1', 'another answer')),
        'TURN.ALREADY_COMPLETED',
      );
    });

    it('treats an identical completion as a retry', () => {
      expect(given(started(), userTurn('t1'), completed('t1')).when(complete('t1'))).toEqual({
        outcome: 'unchanged',
        version: 3,
        turnId: 't1',
      });
    });

    it('refuses completing a failed turn', () => {
      expectError(
        given(started(), userTurn('t1'), failed('t1')).when(complete('t1')),
        'TURN.ALREADY_COMPLETED',
      );
    });

    it('refuses an unknown turn, naming turn_id', () => {
      expectError(
        given(started(), userTurn('t1')).when(complete('nope')),
        'REQUEST.INVALID',
        'turn_id',
      );
    });

    it('refuses a reply in a closed conversation', () => {
      expectError(
        given(started(), userTurn('t1'), closed()).when(complete('t1')),
        'CONVERSATION.CLOSED',
      );
    });

    it('requires the shard that answered', () => {
      expectError(
        given(started(), userTurn('t1')).when(complete('t1', 'x', '')),
        'REQUEST.INVALID',
        'shard_id',
      );
    });

    it('refuses a conversation that was never started', () => {
      expectError(given().when(complete('t1')), 'CONVERSATION.NOT_FOUND');
    });
  });

  describe('FailAssistantMessage', () => {
    it('fails a pending turn', () => {
      expectEvents(given(started(), userTurn('t1')).when(fail('t1')), failed('t1'));
    });

    it('treats an identical failure as a retry', () => {
      expect(given(started(), userTurn('t1'), failed('t1')).when(fail('t1'))).toMatchObject({
        outcome: 'unchanged',
        version: 3,
      });
    });

    it('refuses failing a completed turn', () => {
      expectError(
        given(started(), userTurn('t1'), completed('t1')).when(fail('t1')),
        'TURN.ALREADY_COMPLETED',
      );
    });

    it('requires an error code and a known turn', () => {
      expectError(
        given(started(), userTurn('t1')).when(fail('t1', '')),
        'REQUEST.INVALID',
        'error_code',
      );
      expectError(given(started(), userTurn('t1')).when(fail('t7')), 'REQUEST.INVALID', 'turn_id');
    });

    it('refuses in a closed conversation', () => {
      expectError(
        given(started(), userTurn('t1'), closed()).when(fail('t1')),
        'CONVERSATION.CLOSED',
      );
    });
  });

  describe('PinConversation', () => {
    it('pins to a shard', () => {
      expectEvents(
        given(started()).when(
          command('PinConversation', { shardId: 'shard-1', reason: 'new', assignmentVersion: 0 }),
        ),
        pinned('shard-1'),
      );
    });

    it('treats pinning to the same shard as a retry', () => {
      expect(
        given(started(), pinned('shard-1')).when(
          command('PinConversation', { shardId: 'shard-1', reason: 'new', assignmentVersion: 0 }),
        ),
      ).toEqual({
        outcome: 'unchanged',
        version: 2,
      });
    });

    it('changes nothing for a pin older than the placement already recorded (it arrived late)', () => {
      expect(given(started(), pinned('shard-2', 6)).when(pin('shard-3', 5))).toEqual({
        outcome: 'unchanged',
        version: 2,
      });
      expect(given(started(), pinned('shard-2', 6)).when(pin('shard-2', 6))).toEqual({
        outcome: 'unchanged',
        version: 2,
      });
    });

    it('records a newer pin to the shard in force, so a move recorded between them reads as stale', () => {
      expectEvents(
        given(started(), pinned('shard-1', 5)).when(pin('shard-1', 7)),
        pinned('shard-1', 7, 'spill'),
      );
    });

    it('requires a shard and an open conversation', () => {
      expectError(
        given(started()).when(
          command('PinConversation', { shardId: '', reason: '', assignmentVersion: 0 }),
        ),
        'REQUEST.INVALID',
        'shard_id',
      );
      expectError(
        given(started(), closed()).when(
          command('PinConversation', { shardId: 's', reason: '', assignmentVersion: 0 }),
        ),
        'CONVERSATION.CLOSED',
      );
      expectError(
        given().when(
          command('PinConversation', { shardId: 's', reason: '', assignmentVersion: 0 }),
        ),
        'CONVERSATION.NOT_FOUND',
      );
    });
  });

  describe('StartMigration', () => {
    it('starts a migration away from the pinned shard', () => {
      expectEvents(
        given(started(), pinned('shard-1')).when(startMigration('m1')),
        event('ConversationMigrationStarted', {
          migrationId: 'm1',
          fromShardId: 'shard-1',
          reason: 'shard-failed',
        }),
      );
    });

    it('is a retry when the same migration already started or finished', () => {
      const begun = event('ConversationMigrationStarted', {
        migrationId: 'm1',
        fromShardId: 'shard-1',
        reason: 'shard-failed',
      });
      expect(given(started(), pinned('shard-1'), begun).when(startMigration('m1'))).toEqual({
        outcome: 'unchanged',
        version: 3,
      });
      const moved = event('ConversationMigrated', {
        migrationId: 'm1',
        fromShardId: 'shard-1',
        toShardId: 'shard-2',
        reason: 'x',
        assignmentVersion: 0,
      });
      expect(given(started(), pinned('shard-1'), moved).when(startMigration('m1'))).toEqual({
        outcome: 'unchanged',
        version: 3,
      });
    });

    it('refuses moving away from a shard the conversation is not on', () => {
      expectError(
        given(started(), pinned('shard-3')).when(startMigration('m1', 'shard-1')),
        'ASSIGNMENT.CONFLICT',
      );
    });

    it('requires a migration id, an open and an existing conversation', () => {
      expectError(given(started()).when(startMigration('')), 'REQUEST.INVALID', 'migration_id');
      expectError(given(started(), closed()).when(startMigration('m1')), 'CONVERSATION.CLOSED');
      expectError(given().when(startMigration('m1')), 'CONVERSATION.NOT_FOUND');
    });
  });

  describe('CompleteMigration', () => {
    it('records a move that a newer pin overtook, and leaves the stream on the newer shard', () => {
      const state = afterCommands(
        [started(), pinned('shard-1', 4), pinned('shard-3', 6, 'spill')],
        [migrate('m1', 'shard-1', 'shard-2', 5)],
      );
      expect(state).toMatchObject({
        shardId: 'shard-3',
        assignmentVersion: 6,
        completedMigrations: { m1: 4 },
      });
    });

    it('ends on the newest placement whichever order a pin and a move are recorded in', () => {
      const history = [started(), pinned('shard-1', 4)];
      const move = migrate('m1', 'shard-1', 'shard-2', 5);
      const spill = pin('shard-3', 6);
      for (const order of [
        [move, spill],
        [spill, move],
      ]) {
        expect(afterCommands(history, order)).toMatchObject({
          shardId: 'shard-3',
          assignmentVersion: 6,
          completedMigrations: { m1: expect.any(Number) },
        });
      }
    });

    it('still refuses an unversioned move from a shard the conversation is not on', () => {
      expectError(
        given(started(), pinned('shard-3', 6)).when(migrate('m1', 'shard-1', 'shard-2')),
        'ASSIGNMENT.CONFLICT',
      );
    });

    it('records the move and re-pins', () => {
      const history = [started(), pinned('shard-1')];
      const moved = event('ConversationMigrated', {
        migrationId: 'm1',
        fromShardId: 'shard-1',
        toShardId: 'shard-2',
        reason: 'shard-failed',
        assignmentVersion: 0,
      });
      expectEvents(given(...history).when(migrate('m1')), moved);
      const state = replay([...history, moved]);
      expect(state.status !== 'absent' && state.shardId).toBe('shard-2');
    });

    it('records exactly one ConversationMigrated per migration id', () => {
      const moved = event('ConversationMigrated', {
        migrationId: 'm1',
        fromShardId: 'shard-1',
        toShardId: 'shard-2',
        reason: 'x',
        assignmentVersion: 0,
      });
      expect(given(started(), pinned('shard-1'), moved).when(migrate('m1'))).toEqual({
        outcome: 'unchanged',
        version: 3,
      });
    });

    it('refuses a move from a shard the conversation is not on', () => {
      expectError(given(started(), pinned('shard-9')).when(migrate('m1')), 'ASSIGNMENT.CONFLICT');
    });

    it('requires a target other than the source', () => {
      expectError(
        given(started(), pinned('shard-1')).when(migrate('m1', 'shard-1', '')),
        'REQUEST.INVALID',
        'to_shard_id',
      );
      expectError(
        given(started(), pinned('shard-1')).when(migrate('m1', 'shard-1', 'shard-1')),
        'REQUEST.INVALID',
        'to_shard_id',
      );
      expectError(given(started()).when(migrate('')), 'REQUEST.INVALID', 'migration_id');
    });

    it('refuses a closed or missing conversation', () => {
      expectError(given(started(), closed()).when(migrate('m1')), 'CONVERSATION.CLOSED');
      expectError(given().when(migrate('m1')), 'CONVERSATION.NOT_FOUND');
    });
  });

  describe('CloseConversation', () => {
    it('closes an open conversation', () => {
      expectEvents(
        given(started()).when(command('CloseConversation', { reason: 'user' })),
        closed(),
      );
    });

    it('treats closing again as a retry', () => {
      expect(
        given(started(), closed()).when(command('CloseConversation', { reason: 'other' })),
      ).toEqual({ outcome: 'unchanged', version: 2 });
    });

    it('refuses a conversation that was never started', () => {
      expectError(
        given().when(command('CloseConversation', { reason: '' })),
        'CONVERSATION.NOT_FOUND',
      );
    });
  });

  it('stamps events with the command time', () => {
    const decision = given(started()).when(appendUser('t1'));
    expect(decision.outcome === 'accepted' && decision.events[0]?.occurredAtMs).toBe(NOW);
  });
});
