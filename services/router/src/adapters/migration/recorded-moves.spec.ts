import { DomainError } from '@spillway/errors';
import type { LogPort } from '../../application/index.js';
import {
  migrationId,
  type RecordMigration,
  type RecordPin,
} from '../../application/migrate-conversations/index.js';
import type { ConversationMove, ConversationPin } from '../../application/place-turn/place-turn.js';
import { aShard, type ShardView } from '../../domain/index.js';
import { RecordedMoves } from './recorded-moves.js';

describe('RecordedMoves', () => {
  const move: ConversationMove = {
    tenantId: 'tenant-1',
    conversationId: 'c-1',
    fromShardId: 'home',
    toShardId: 'spare',
    reason: 'failover',
    fromVersion: 4,
    toVersion: 5,
  };

  function setup(answer: () => Promise<boolean>, shards: ShardView[] = []) {
    const recorded: RecordMigration[] = [];
    const pins: RecordPin[] = [];
    const logged: { message: string; fields: unknown }[] = [];
    const log: LogPort = {
      debug: () => undefined,
      info: (message, fields) => logged.push({ message, fields }),
      warn: () => undefined,
      error: () => undefined,
    };
    const moves = new RecordedMoves(
      {
        recordMigration: (command) => {
          recorded.push(command);
          return answer();
        },
        recordPin: async (command) => {
          pins.push(command);
          await answer();
        },
      },
      new Map(shards.map((shard) => [shard.id, shard])),
      log,
    );
    return { moves, recorded, pins, logged };
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('records a failover as a migration keyed by the version it left, with the version it got', async () => {
    const { moves, recorded, logged } = setup(async () => true);
    moves.moved(move);
    moves.moved(move);
    await settle();
    expect(recorded[0]).toEqual({
      tenantId: 'tenant-1',
      conversationId: 'c-1',
      migrationId: migrationId('home', 'failover@4', 'c-1'),
      fromShardId: 'home',
      toShardId: 'spare',
      reason: 'shard-failed',
      causationId: 'failover@4',
      assignmentVersion: 5,
    });
    // A repeat of the same move is the same migration: conversation-state appends it once.
    expect(recorded[1]?.migrationId).toBe(recorded[0]?.migrationId);
    expect(logged).toEqual([]);
  });

  it('names a move off a draining shard as draining, and any other as re-routed', async () => {
    const { moves, recorded } = setup(
      async () => true,
      [aShard({ id: 'home', state: 'draining' })],
    );
    moves.moved({ ...move, reason: 'migration' });
    moves.moved({ ...move, fromShardId: 'elsewhere', reason: 'migration' });
    await settle();
    expect(recorded.map((record) => record.reason)).toEqual(['shard-draining', 'rerouted']);
  });

  it('says nothing of a stateless conversation, and logs a refused record', async () => {
    const notFound = setup(async () => {
      throw new DomainError('CONVERSATION.NOT_FOUND', 'Conversation c-1 was not found');
    });
    notFound.moves.moved(move);
    await settle();
    expect(notFound.logged).toEqual([]);

    const conflict = setup(async () => {
      throw new DomainError('ASSIGNMENT.CONFLICT', 'recorded on another shard');
    });
    conflict.moves.moved(move);
    await settle();
    expect(conflict.logged).toEqual([
      {
        message: 'conversation move not recorded',
        fields: expect.objectContaining({ conversationId: 'c-1', error: 'ASSIGNMENT.CONFLICT' }),
      },
    ]);
  });

  const pin: ConversationPin = {
    tenantId: 'tenant-1',
    conversationId: 'c-1',
    shardId: 'spare',
    reason: 'spill',
    fromVersion: 4,
    toVersion: 5,
  };

  it('records a pin as ConversationPinned, caused by the version it replaced', async () => {
    const { moves, pins, logged } = setup(async () => true);
    moves.pinned(pin);
    await settle();
    const { fromVersion: _replaced, toVersion: _got, ...recorded } = pin;
    expect(pins).toEqual([{ ...recorded, causationId: 'spill@4', assignmentVersion: 5 }]);
    expect(logged).toEqual([]);
  });

  it('logs a pin conversation-state refused', async () => {
    const { moves, logged } = setup(async () => {
      throw new DomainError('CONVERSATION.CLOSED', 'Conversation c-1 is closed');
    });
    moves.pinned({ ...pin, reason: 'new', fromVersion: 0 });
    await settle();
    expect(logged).toEqual([
      {
        message: 'conversation move not recorded',
        fields: { conversationId: 'c-1', to: 'spare', reason: 'new', error: 'CONVERSATION.CLOSED' },
      },
    ]);
  });
});
