import { AssignmentView, aShard, type ShardState, type ShardView } from '../../domain/index.js';
import { SILENT_LOG, type LogPort } from '../log.port.js';
import type { ConversationMigration } from './migrate-conversations.use-case.js';
import { MigrateOnDemand } from './migrate-on-demand.js';
import type { MigrationReason } from './migration.ports.js';

describe('MigrateOnDemand', () => {
  const calls: { conversationId: string; reason: MigrationReason }[] = [];
  let assignments: AssignmentView;
  let shards: Map<string, ShardView>;
  let failWith: Error | undefined;
  const warnings: string[] = [];

  const log: LogPort = {
    ...SILENT_LOG,
    warn: (message: string) => {
      warnings.push(message);
    },
  };

  function onDemand(): MigrateOnDemand {
    return new MigrateOnDemand({
      assignments,
      shards,
      log,
      saga: {
        migrateOne: async (conversationId, reason): Promise<ConversationMigration> => {
          calls.push({ conversationId, reason });
          if (failWith) throw failWith;
          return { conversationId, outcome: 'migrated', shardId: 'shard-b' };
        },
      },
    });
  }

  function pinTo(shardId: string, state: ShardState | undefined): void {
    if (state !== undefined) shards.set(shardId, aShard({ id: shardId, state }));
    assignments.applyRemote({ conversationId: 'conv-1', shardId, version: 3 });
  }

  beforeEach(() => {
    calls.length = 0;
    warnings.length = 0;
    failWith = undefined;
    assignments = new AssignmentView();
    shards = new Map();
  });

  it.each<ShardState>(['ready', 'starting'])(
    'leaves a conversation on a %s shard alone, without calling out',
    async (state) => {
      pinTo('shard-a', state);
      await expect(onDemand().beforeTurn('conv-1')).resolves.toBeUndefined();
      expect(calls).toEqual([]);
    },
  );

  it('does nothing for a conversation with no pin yet', async () => {
    await expect(onDemand().beforeTurn('conv-new')).resolves.toBeUndefined();
    expect(calls).toEqual([]);
  });

  it.each<ShardState | undefined>(['failed', 'draining', 'removed', undefined])(
    'moves a conversation whose shard is %s (undefined: unknown here) through the saga',
    async (state) => {
      pinTo('shard-a', state);
      await expect(onDemand().beforeTurn('conv-1')).resolves.toEqual({
        conversationId: 'conv-1',
        outcome: 'migrated',
        shardId: 'shard-b',
      });
      expect(calls).toEqual([{ conversationId: 'conv-1', reason: 'shard-gone' }]);
    },
  );

  it('lets the turn go on when the move fails, and says so', async () => {
    pinTo('shard-a', 'failed');
    failWith = new Error('registry unreachable');
    await expect(onDemand().beforeTurn('conv-1')).resolves.toBeUndefined();
    expect(warnings).toEqual(['on-demand migration failed; the turn is placed without it']);
  });
});
