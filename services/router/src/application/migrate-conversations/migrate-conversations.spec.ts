import { DomainError } from '@spillway/errors';
import {
  DEFAULT_PLACEMENT_CONFIG,
  PlacementPipeline,
  aDirectory,
  aShard,
  seededRandom,
  type ModelRouteTable,
  type ShardDirectory,
} from '../../domain/index.js';
import type { CompareAndSetAssignment, CompareAndSetOutcome } from '../assignment-registry.port.js';
import { SILENT_LOG } from '../log.port.js';
import {
  MigrateConversations,
  type MigrateConversationsSettings,
} from './migrate-conversations.use-case.js';
import {
  NO_MIGRATION_METRICS,
  NO_MIGRATION_TRACING,
  type AssignmentPage,
  type ContextLookup,
  type MigrationCause,
  type MigrationConversationsPort,
  type MigrationRegistryPort,
  type PrewarmPort,
  type PrewarmRequest,
  type RecordMigration,
  type RecordPin,
  type RegisteredAssignment,
} from './migration.ports.js';

const routes: ModelRouteTable = {
  models: { 'model-a': { pools: [{ pool: 'pool-a', weight: 1 }] } },
};

/** The registry's assignment map in memory, with a hook to let a rival writer in before a CAS. */
class FakeRegistry implements MigrationRegistryPort {
  readonly byConversation = new Map<string, RegisteredAssignment>();
  readonly casCalls: CompareAndSetAssignment[] = [];
  beforeCas: (request: CompareAndSetAssignment) => void = () => undefined;

  pin(conversationId: string, shardId: string, version = 1): void {
    this.byConversation.set(conversationId, {
      conversationId,
      tenantId: 'tenant-1',
      shardId,
      version,
    });
  }

  async listOnShard(shardId: string, pageSize: number, pageToken: string): Promise<AssignmentPage> {
    const on = [...this.byConversation.values()]
      .filter((a) => a.shardId === shardId && a.conversationId > pageToken)
      .sort((a, b) => a.conversationId.localeCompare(b.conversationId))
      .slice(0, pageSize);
    const last = on.at(-1);
    return {
      assignments: on,
      nextPageToken: on.length === pageSize && last ? last.conversationId : '',
    };
  }

  async get(conversationId: string): Promise<RegisteredAssignment | undefined> {
    return this.byConversation.get(conversationId);
  }

  async compareAndSet(request: CompareAndSetAssignment): Promise<CompareAndSetOutcome> {
    this.beforeCas(request);
    this.casCalls.push(request);
    const held = this.byConversation.get(request.conversationId);
    if ((held?.version ?? 0) !== request.expectedVersion) return { applied: false, current: held };
    const next = { ...request, version: request.expectedVersion + 1 };
    this.byConversation.set(request.conversationId, next);
    return { applied: true, current: next };
  }
}

/** conversation-state's dedup per migration id, in memory. */
class FakeConversations implements MigrationConversationsPort {
  readonly recordedShard = new Map<string, string>();
  readonly migrated = new Map<string, RecordMigration[]>();
  readonly closed = new Set<string>();
  readonly pins: RecordPin[] = [];
  failRecord = false;
  /** Runs once before the next record: a rival attempt at the same migration gets in first. */
  beforeRecord: ((command: RecordMigration) => Promise<void>) | undefined;

  async context(_tenantId: string, conversationId: string): Promise<ContextLookup> {
    if (this.closed.has(conversationId)) return { kind: 'closed' };
    return {
      kind: 'found',
      context: {
        model: 'model-a',
        messages: [{ role: 'user', content: `hello from ${conversationId}` }],
        estimatedTokens: 12,
        recordedShardId: this.recordedShard.get(conversationId) ?? '',
      },
    };
  }

  async recordMigration(command: RecordMigration): Promise<boolean> {
    if (this.failRecord) throw new DomainError('DEPENDENCY.UNAVAILABLE', 'store down');
    const rival = this.beforeRecord;
    this.beforeRecord = undefined;
    await rival?.(command);
    const events = this.migrated.get(command.conversationId) ?? [];
    if (events.some((event) => event.migrationId === command.migrationId)) return false;
    this.migrated.set(command.conversationId, [...events, command]);
    this.recordedShard.set(command.conversationId, command.toShardId);
    return true;
  }

  async recordPin(command: RecordPin): Promise<void> {
    this.pins.push(command);
    this.recordedShard.set(command.conversationId, command.shardId);
  }
}

class FakePrewarm implements PrewarmPort {
  readonly calls: { shardId: string; request: PrewarmRequest }[] = [];
  fail = false;

  async prewarm(shard: { shardId: string }, request: PrewarmRequest): Promise<void> {
    this.calls.push({ shardId: shard.shardId, request });
    if (this.fail) throw new DomainError('SHARD.UNAVAILABLE', 'prewarm refused');
  }
}

function aWorld(
  shards: ShardDirectory = threeShards(),
  settings: Partial<MigrateConversationsSettings> = { concurrency: 4, pageSize: 3 },
) {
  const registry = new FakeRegistry();
  const conversations = new FakeConversations();
  const prewarm = new FakePrewarm();
  const saga = new MigrateConversations({
    registry,
    conversations,
    prewarm,
    pipeline: new PlacementPipeline(DEFAULT_PLACEMENT_CONFIG, seededRandom(3)),
    shards,
    routes: { current: () => routes },
    clock: { nowMs: () => 1_000 },
    metrics: NO_MIGRATION_METRICS,
    tracing: NO_MIGRATION_TRACING,
    log: SILENT_LOG,
    settings,
  });
  return { registry, conversations, prewarm, saga, shards };
}

function threeShards(): ShardDirectory {
  return aDirectory(
    aShard({ id: 'shard-dead', pool: 'pool-a', state: 'failed' }),
    aShard({ id: 'shard-b', pool: 'pool-a' }),
    aShard({ id: 'shard-c', pool: 'pool-a' }),
  );
}

const failed: MigrationCause = { reason: 'shard-failed', causeId: 'event-1', traceHeaders: {} };

describe('MigrateConversations', () => {
  it('given conversations on a failed shard, when it fails, then each is recorded, re-pinned and prewarmed', async () => {
    const { registry, conversations, prewarm, saga } = aWorld();
    const ids = ['c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6', 'c-7'];
    for (const id of ids) registry.pin(id, 'shard-dead');
    registry.pin('elsewhere', 'shard-b');

    const summary = await saga.migrateShard('shard-dead', failed);

    expect(summary).toMatchObject({ conversations: 7, remaining: 0 });
    expect(summary.outcomes.migrated).toBe(7);
    for (const id of ids) {
      const now = registry.byConversation.get(id);
      expect(now?.shardId).toMatch(/^shard-[bc]$/);
      expect(now?.version).toBe(2);
      const recorded = conversations.migrated.get(id) ?? [];
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toMatchObject({
        fromShardId: 'shard-dead',
        toShardId: now?.shardId,
        reason: 'shard-failed',
        causationId: 'event-1',
        assignmentVersion: 0,
      });
      // Once the registry applied the move, the stream gets its version: older records are stale.
      expect(conversations.pins.filter((pin) => pin.conversationId === id)).toEqual([
        {
          tenantId: 'tenant-1',
          conversationId: id,
          shardId: now?.shardId,
          reason: 'migrated',
          causationId: 'event-1',
          assignmentVersion: 2,
        },
      ]);
    }
    expect(registry.casCalls.every((call) => call.reason === 'migration')).toBe(true);
    expect(prewarm.calls.map((call) => call.request.conversationId).sort()).toEqual(ids);
    expect(prewarm.calls[0]?.request.messages[0]?.content).toMatch(/^hello from c-/);
    expect(registry.byConversation.get('elsewhere')?.version).toBe(1);
  });

  it('heartbeats after each conversation of a pass', async () => {
    const { registry, saga } = aWorld();
    for (const id of ['c-1', 'c-2', 'c-3', 'c-4', 'c-5']) registry.pin(id, 'shard-dead');
    const repinnedAtBeat: number[] = [];
    const heartbeat = async (): Promise<void> => {
      repinnedAtBeat.push(registry.casCalls.length);
    };

    await saga.migrateShard('shard-dead', failed, heartbeat);

    // One beat per conversation (two pages of them), the n-th once n conversations were re-pinned.
    expect(repinnedAtBeat).toHaveLength(5);
    repinnedAtBeat.forEach((repinned, beat) => expect(repinned).toBeGreaterThanOrEqual(beat + 1));
  });

  it('a heartbeat that fails ends the pass once the conversations in flight are done', async () => {
    const { registry, saga } = aWorld(threeShards(), { concurrency: 2, pageSize: 3 });
    const ids = ['c-1', 'c-2', 'c-3', 'c-4', 'c-5'];
    for (const id of ids) registry.pin(id, 'shard-dead');
    const lostPartition = new Error('the group is rebalancing');
    let beats = 0;
    // Only the first beat fails: the other worker's beat succeeds, and it must stop all the same.
    const heartbeat = (): Promise<void> =>
      beats++ === 0 ? Promise.reject(lostPartition) : Promise.resolve();

    await expect(saga.migrateShard('shard-dead', failed, heartbeat)).rejects.toBe(lostPartition);

    // c-1 and c-2 were in flight together and finished; nothing started after the failed beat.
    const stillOnShard = ids.filter(
      (id) => registry.byConversation.get(id)?.shardId === 'shard-dead',
    );
    expect(stillOnShard).toEqual(['c-3', 'c-4', 'c-5']);
    expect(registry.casCalls).toHaveLength(2);
  });

  it('a re-run for the same event is a no-op', async () => {
    const { registry, conversations, saga } = aWorld();
    for (const id of ['c-1', 'c-2']) registry.pin(id, 'shard-dead');
    await saga.migrateShard('shard-dead', failed);
    const casBefore = registry.casCalls.length;

    const again = await saga.migrateShard('shard-dead', failed);

    expect(again.conversations).toBe(0);
    expect(registry.casCalls).toHaveLength(casBefore);
    expect([...conversations.migrated.values()].map((events) => events.length)).toEqual([1, 1]);
  });

  it('resumes a move recorded before a crash: same target, no second ConversationMigrated', async () => {
    const { registry, conversations, saga } = aWorld();
    registry.pin('c-1', 'shard-dead');
    // The earlier run recorded shard-c, then died before its compare-and-set.
    await conversations.recordMigration({
      tenantId: 'tenant-1',
      conversationId: 'c-1',
      migrationId: 'mig-earlier',
      fromShardId: 'shard-dead',
      toShardId: 'shard-c',
      reason: 'shard-failed',
      causationId: 'event-1',
      assignmentVersion: 0,
    });

    const summary = await saga.migrateShard('shard-dead', failed);

    expect(summary.outcomes.migrated).toBe(1);
    expect(registry.byConversation.get('c-1')?.shardId).toBe('shard-c');
    expect(conversations.migrated.get('c-1')).toHaveLength(1);
  });

  it('a rival that recorded the same migration to another shard first wins: the saga follows it', async () => {
    const { registry, conversations, prewarm, saga } = aWorld();
    registry.pin('c-1', 'shard-dead');
    conversations.beforeRecord = async (command) => {
      const rivalPick = command.toShardId === 'shard-b' ? 'shard-c' : 'shard-b';
      await conversations.recordMigration({ ...command, toShardId: rivalPick });
    };

    const summary = await saga.migrateShard('shard-dead', failed);

    expect(summary.outcomes.migrated).toBe(1);
    const recorded = conversations.migrated.get('c-1') ?? [];
    expect(recorded).toHaveLength(1);
    expect(registry.byConversation.get('c-1')?.shardId).toBe(recorded[0]?.toShardId);
    expect(prewarm.calls.map((call) => call.shardId)).toEqual([recorded[0]?.toShardId]);
  });

  it('a lost race to a rival still on the source shard is retried from the version it read', async () => {
    const { registry, saga } = aWorld();
    registry.pin('c-1', 'shard-dead', 4);
    let rivals = 1;
    registry.beforeCas = () => {
      if (rivals-- > 0) registry.pin('c-1', 'shard-dead', 5);
    };

    const summary = await saga.migrateShard('shard-dead', failed);

    expect(summary.outcomes.migrated).toBe(1);
    expect(registry.casCalls.map((call) => call.expectedVersion)).toEqual([4, 5]);
    expect(registry.byConversation.get('c-1')).toMatchObject({ version: 6 });
  });

  it('a lost race to a rival that moved the conversation off the shard stops there, and puts the stream back on the registry shard', async () => {
    const { registry, conversations, prewarm, saga } = aWorld();
    registry.pin('c-1', 'shard-dead', 4);
    registry.beforeCas = (request) => {
      if (request.expectedVersion === 4) registry.pin('c-1', 'shard-rival', 5);
    };

    const summary = await saga.migrateShard('shard-dead', failed);

    expect(summary.outcomes['moved-elsewhere']).toBe(1);
    expect(registry.casCalls).toHaveLength(1);
    expect(registry.byConversation.get('c-1')?.shardId).toBe('shard-rival');
    expect(prewarm.calls).toHaveLength(0);
    // The saga had recorded its own move first: the stream follows the registry again.
    expect(conversations.migrated.get('c-1')).toHaveLength(1);
    expect(conversations.pins).toEqual([
      expect.objectContaining({
        conversationId: 'c-1',
        shardId: 'shard-rival',
        reason: 'reconciled',
      }),
    ]);
    expect(conversations.recordedShard.get('c-1')).toBe('shard-rival');
  });

  it("a failed pin of the registry's version does not stop the migration", async () => {
    const { registry, conversations, prewarm, saga } = aWorld();
    registry.pin('c-1', 'shard-dead');
    conversations.recordPin = () =>
      Promise.reject(new DomainError('DEPENDENCY.UNAVAILABLE', 'store down'));

    const summary = await saga.migrateShard('shard-dead', failed);

    expect(summary.outcomes.migrated).toBe(1);
    expect(registry.byConversation.get('c-1')?.version).toBe(2);
    expect(prewarm.calls).toHaveLength(1);
  });

  it('a failed prewarm does not stop the migration', async () => {
    const { registry, conversations, prewarm, saga } = aWorld();
    registry.pin('c-1', 'shard-dead');
    prewarm.fail = true;

    const summary = await saga.migrateShard('shard-dead', failed);

    expect(summary.outcomes.migrated).toBe(1);
    expect(prewarm.calls).toHaveLength(1);
    expect(registry.byConversation.get('c-1')?.shardId).not.toBe('shard-dead');
    expect(conversations.migrated.get('c-1')).toHaveLength(1);
  });

  it('an outage leaves the conversation on the shard for the next pass', async () => {
    const { registry, conversations, saga } = aWorld();
    registry.pin('c-1', 'shard-dead');
    conversations.failRecord = true;

    const first = await saga.migrateShard('shard-dead', failed);
    expect(first).toMatchObject({ remaining: 1 });
    expect(registry.byConversation.get('c-1')?.shardId).toBe('shard-dead');

    conversations.failRecord = false;
    const second = await saga.migrateShard('shard-dead', failed);
    expect(second.outcomes.migrated).toBe(1);
    expect(conversations.migrated.get('c-1')).toHaveLength(1);
  });

  it('with no ready shard to take them, conversations stay put and count as remaining', async () => {
    const { registry, saga } = aWorld(
      aDirectory(aShard({ id: 'shard-dead', pool: 'pool-a', state: 'failed' })),
    );
    registry.pin('c-1', 'shard-dead');

    const summary = await saga.migrateShard('shard-dead', failed);

    expect(summary.outcomes.unplaceable).toBe(1);
    expect(summary.remaining).toBe(1);
    expect(registry.casCalls).toHaveLength(0);
  });

  it('skips closed conversations', async () => {
    const { registry, conversations, saga } = aWorld();
    registry.pin('c-1', 'shard-dead');
    conversations.closed.add('c-1');

    const summary = await saga.migrateShard('shard-dead', failed);

    expect(summary.outcomes.skipped).toBe(1);
    expect(registry.byConversation.get('c-1')?.shardId).toBe('shard-dead');
  });

  it('migrateOne moves a conversation whose shard is gone, once however many turns ask', async () => {
    const { registry, conversations, saga } = aWorld();
    registry.pin('c-1', 'shard-dead', 3);

    const [first, second] = await Promise.all([
      saga.migrateOne('c-1', 'shard-gone'),
      saga.migrateOne('c-1', 'shard-gone'),
    ]);

    expect(first?.outcome).toBe('migrated');
    expect(second?.shardId).toBe(first?.shardId);
    expect(registry.byConversation.get('c-1')?.shardId).toBe(first?.shardId);
    expect(conversations.migrated.get('c-1')).toHaveLength(1);
  });

  it('migrateOne leaves a conversation on a ready shard alone', async () => {
    const { registry, saga } = aWorld();
    registry.pin('c-1', 'shard-b');

    await expect(saga.migrateOne('c-1', 'shard-gone')).resolves.toEqual({
      conversationId: 'c-1',
      outcome: 'skipped',
      shardId: 'shard-b',
    });
    expect(registry.casCalls).toHaveLength(0);
  });
});
