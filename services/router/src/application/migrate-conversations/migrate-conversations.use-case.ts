import { isDomainError } from '@spillway/errors';
import {
  routeModel,
  type PlacementPipeline,
  type QueueDepth,
  type ShardDirectory,
  type ShardView,
} from '../../domain/index.js';
import type { Clock } from '../clock.port.js';
import type { LogPort } from '../log.port.js';
import type { ModelRoutesPort } from '../model-routes.port.js';
import { migrationId } from './migration-id.js';
import {
  NO_HEARTBEAT,
  type Heartbeat,
  type MigrationCause,
  type MigrationContext,
  type MigrationConversationsPort,
  type MigrationMetrics,
  type MigrationOutcome,
  type MigrationReason,
  type MigrationRegistryPort,
  type MigrationTracing,
  type PrewarmPort,
  type RegisteredAssignment,
} from './migration.ports.js';

export interface MigrateConversationsSettings {
  /** Conversations moved at once. */
  readonly concurrency: number;
  readonly pageSize: number;
  /** Compare-and-set attempts while other writers keep bumping the version on the source shard. */
  readonly maxCasAttempts: number;
  /** Bound on the pages of one pass (pageSize × maxPages conversations per shard). */
  readonly maxPages: number;
}

export const DEFAULT_MIGRATION_SETTINGS: MigrateConversationsSettings = {
  concurrency: 16,
  pageSize: 500,
  maxCasAttempts: 3,
  maxPages: 10_000,
};

export interface MigrateConversationsDependencies {
  readonly registry: MigrationRegistryPort;
  readonly conversations: MigrationConversationsPort;
  readonly prewarm: PrewarmPort;
  readonly pipeline: PlacementPipeline;
  readonly shards: ShardDirectory;
  readonly routes: ModelRoutesPort;
  readonly queues?: QueueDepth | undefined;
  readonly clock: Clock;
  readonly metrics: MigrationMetrics;
  readonly tracing: MigrationTracing;
  readonly log: LogPort;
  readonly settings?: Partial<MigrateConversationsSettings> | undefined;
}

export interface ConversationMigration {
  readonly conversationId: string;
  readonly outcome: MigrationOutcome;
  /** Where the conversation is pinned now, when known. */
  readonly shardId: string | undefined;
}

export interface ShardMigrationSummary {
  readonly shardId: string;
  readonly conversations: number;
  readonly outcomes: Readonly<Record<MigrationOutcome, number>>;
  /** Conversations left on the shard for a later pass (unplaceable now, or an outage). */
  readonly remaining: number;
}

/**
 * The migration saga: moves every conversation pinned to a failed or draining shard, and single
 * conversations on demand. Per conversation: read its context, place it (purpose 'migration', the
 * source shard excluded), record the move in conversation-state (StartMigration +
 * CompleteMigration, one deterministic migration id), compare-and-set the registry's assignment,
 * prewarm the new shard (best effort).
 *
 * The record comes before the compare-and-set on purpose: the registry's list of conversations
 * still on the source shard is the saga's to-do list, so a conversation stays on it until its
 * last durable step. Had the assignment moved first, a crash before the record would leave a
 * moved conversation that no re-run lists and no ConversationMigrated. A re-run finds the
 * recorded target in conversation-state and finishes the move to it.
 */
export class MigrateConversations {
  private readonly settings: MigrateConversationsSettings;

  constructor(private readonly deps: MigrateConversationsDependencies) {
    this.settings = { ...DEFAULT_MIGRATION_SETTINGS, ...deps.settings };
  }

  /**
   * One pass over the conversations the registry pins to `shardId`. Idempotent: conversations
   * already off the shard are no longer listed, and every step repeats harmlessly. `heartbeat`
   * runs after each conversation; when it rejects, no further conversation starts, and the pass
   * rejects with its error once those in flight have finished.
   */
  async migrateShard(
    shardId: string,
    cause: MigrationCause,
    heartbeat: Heartbeat = NO_HEARTBEAT,
  ): Promise<ShardMigrationSummary> {
    const { registry, clock, metrics, log } = this.deps;
    const startedMs = clock.nowMs();
    const outcomes: Record<MigrationOutcome, number> = {
      migrated: 0,
      'moved-elsewhere': 0,
      skipped: 0,
      unplaceable: 0,
      failed: 0,
    };
    let pageToken = '';
    try {
      for (let page = 0; page < this.settings.maxPages; page++) {
        const listed = await registry.listOnShard(shardId, this.settings.pageSize, pageToken);
        await forEachBounded(listed.assignments, this.settings.concurrency, async (assignment) => {
          const result = await this.migrateTraced(assignment, cause);
          outcomes[result.outcome]++;
          await heartbeat();
        });
        if (listed.nextPageToken === '') break;
        pageToken = listed.nextPageToken;
      }
    } catch (error) {
      log.warn('shard migration pass stopped before its end', {
        shardId,
        reason: cause.reason,
        cause: cause.causeId,
        migrated: outcomes.migrated,
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
    const conversations = Object.values(outcomes).reduce((sum, count) => sum + count, 0);
    const summary = {
      shardId,
      conversations,
      outcomes,
      remaining: outcomes.unplaceable + outcomes.failed,
    };
    metrics.shardMigrated(cause.reason, clock.nowMs() - startedMs, conversations);
    log.info('shard migration pass finished', {
      shardId,
      reason: cause.reason,
      cause: cause.causeId,
      conversations,
      migrated: outcomes.migrated,
      remaining: summary.remaining,
    });
    return summary;
  }

  /**
   * Moves one conversation whose shard is gone (a turn found it so). Call it from the converse
   * path before placing the turn; two turns racing here record one migration.
   */
  async migrateOne(
    conversationId: string,
    reason: MigrationReason,
    traceHeaders: Readonly<Record<string, string>> = {},
  ): Promise<ConversationMigration> {
    const assignment = await this.deps.registry.get(conversationId);
    if (assignment === undefined) return { conversationId, outcome: 'skipped', shardId: undefined };
    if (this.deps.shards.get(assignment.shardId)?.state === 'ready') {
      return { conversationId, outcome: 'skipped', shardId: assignment.shardId };
    }
    // Keyed by the assignment version read: callers that saw the same pin agree on one migration.
    const causeId = `${reason}@${assignment.version}`;
    return this.migrateTraced(assignment, { reason, causeId, traceHeaders });
  }

  private migrateTraced(
    assignment: RegisteredAssignment,
    cause: MigrationCause,
  ): Promise<ConversationMigration> {
    const { tracing, metrics, log } = this.deps;
    return tracing.inMigrationTrace(assignment.conversationId, cause, async (annotate) => {
      annotate('spillway.migration.from_shard', assignment.shardId);
      let result: ConversationMigration;
      try {
        result = await this.migrate(assignment, cause);
      } catch (error) {
        log.warn('conversation migration interrupted; retried with the event', {
          conversationId: assignment.conversationId,
          shardId: assignment.shardId,
          error: error instanceof Error ? error.message : String(error),
        });
        result = {
          conversationId: assignment.conversationId,
          outcome: 'failed',
          shardId: undefined,
        };
      }
      annotate('spillway.migration.outcome', result.outcome);
      if (result.shardId !== undefined) annotate('spillway.migration.to_shard', result.shardId);
      metrics.conversationMigrated(cause.reason, result.outcome);
      return result;
    });
  }

  private async migrate(
    assignment: RegisteredAssignment,
    cause: MigrationCause,
  ): Promise<ConversationMigration> {
    const { conversationId, tenantId, shardId: source } = assignment;
    const lookup = await this.deps.conversations.context(tenantId, conversationId);
    if (lookup.kind !== 'found') return { conversationId, outcome: 'skipped', shardId: source };
    const context = lookup.context;
    const recorded = context.recordedShardId;

    let target: ShardView | undefined;
    const resumable =
      recorded !== '' && recorded !== source ? this.readyShard(recorded) : undefined;
    if (resumable !== undefined) {
      // An earlier attempt recorded this move and stopped before the registry followed.
      target = resumable;
    } else {
      const from = recorded === '' ? source : recorded;
      const id = migrationId(from, cause.causeId, conversationId);
      target = this.place(conversationId, id, context, [source, recorded]);
      if (target === undefined) return { conversationId, outcome: 'unplaceable', shardId: source };
      const appended = await this.deps.conversations.recordMigration({
        tenantId,
        conversationId,
        migrationId: id,
        fromShardId: from,
        toShardId: target.id,
        reason: cause.reason,
        causationId: cause.causeId,
        // Recorded before the registry applies it, so that a crash resumes it: no version yet.
        assignmentVersion: 0,
      });
      if (!appended) {
        // A rival attempt at this very migration (same id: another replica given the redelivered
        // event, or a second pass) recorded its own pick first. Follow the record, or the registry
        // and the stream would disagree on where the conversation went.
        const recordedTarget = await this.recordedTarget(tenantId, conversationId);
        if (recordedTarget === undefined) {
          return { conversationId, outcome: 'failed', shardId: source };
        }
        target = recordedTarget;
      }
    }

    const pinned = await this.repin(assignment, target.id);
    if (pinned.kind === 'moved-elsewhere') {
      await this.reconcile(assignment, target.id, pinned.current, cause);
      return { conversationId, outcome: 'moved-elsewhere', shardId: undefined };
    }
    if (pinned.kind !== 'pinned') return { conversationId, outcome: 'failed', shardId: undefined };
    await this.recordAppliedVersion(assignment, target.id, pinned.version, cause);
    await this.prewarm(target, conversationId, context);
    return { conversationId, outcome: 'migrated', shardId: target.id };
  }

  /**
   * The saga recorded its move to `recordedShardId`, but a turn's failover re-pinned the
   * conversation elsewhere first. That failover records its own move with the registry's version,
   * which puts the stream on the registry's shard whatever order the two records arrive in; this
   * pin, with the same version, covers a failover whose record was lost. Best effort: the registry
   * stays the authority, and a failed pin is only logged.
   */
  private async reconcile(
    assignment: RegisteredAssignment,
    recordedShardId: string,
    current: { readonly shardId: string; readonly version: number } | undefined,
    cause: MigrationCause,
  ): Promise<void> {
    if (current === undefined || current.shardId === recordedShardId) return;
    const registryShardId = current.shardId;
    try {
      await this.deps.conversations.recordPin({
        tenantId: assignment.tenantId,
        conversationId: assignment.conversationId,
        shardId: registryShardId,
        reason: 'reconciled',
        causationId: cause.causeId,
        assignmentVersion: current.version,
      });
    } catch (error) {
      this.deps.log.info('conversation stream not reconciled with the registry', {
        conversationId: assignment.conversationId,
        recorded: recordedShardId,
        registry: registryShardId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /**
   * The move was recorded before the registry applied it, so without a version; a delayed record
   * of an older placement (a failover's, say) could then still take the stream's shard back. A pin
   * with the version the registry gave this move makes every older record stale. Best effort, like
   * reconcile: the registry stays the authority, and a failed pin is only logged.
   */
  private async recordAppliedVersion(
    assignment: RegisteredAssignment,
    shardId: string,
    version: number,
    cause: MigrationCause,
  ): Promise<void> {
    if (version === 0) return;
    try {
      await this.deps.conversations.recordPin({
        tenantId: assignment.tenantId,
        conversationId: assignment.conversationId,
        shardId,
        reason: 'migrated',
        causationId: cause.causeId,
        assignmentVersion: version,
      });
    } catch (error) {
      this.deps.log.info("conversation stream did not get the migration's registry version", {
        conversationId: assignment.conversationId,
        shardId,
        version,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Compare-and-set from the version read; a lost race goes on only while still on the source. */
  private async repin(
    assignment: RegisteredAssignment,
    targetShardId: string,
  ): Promise<
    | { kind: 'pinned'; version: number }
    | { kind: 'moved-elsewhere'; current: { shardId: string; version: number } | undefined }
    | { kind: 'contended' }
  > {
    let expectedVersion = assignment.version;
    for (let attempt = 0; attempt < this.settings.maxCasAttempts; attempt++) {
      const outcome = await this.deps.registry.compareAndSet({
        conversationId: assignment.conversationId,
        tenantId: assignment.tenantId,
        shardId: targetShardId,
        expectedVersion,
        reason: 'migration',
      });
      const current = outcome.current;
      if (outcome.applied) return { kind: 'pinned', version: current?.version ?? 0 };
      // The same move by another replica handling the same event.
      if (current?.shardId === targetShardId) return { kind: 'pinned', version: current.version };
      if (current === undefined || current.shardId !== assignment.shardId) {
        this.deps.log.info('conversation left the shard before the saga moved it', {
          conversationId: assignment.conversationId,
          from: assignment.shardId,
          now: current?.shardId ?? '(unassigned)',
        });
        return {
          kind: 'moved-elsewhere',
          current: current && { shardId: current.shardId, version: current.version },
        };
      }
      expectedVersion = current.version;
    }
    return { kind: 'contended' };
  }

  private async prewarm(
    target: ShardView,
    conversationId: string,
    context: MigrationContext,
  ): Promise<void> {
    try {
      await this.deps.prewarm.prewarm(
        { shardId: target.id, endpoint: target.endpoint },
        { conversationId, model: context.model, messages: context.messages },
      );
    } catch (error) {
      // Only the first turn on the new shard pays for a cold cache.
      this.deps.metrics.prewarmFailed();
      this.deps.log.warn('prewarm failed; the conversation moved anyway', {
        conversationId,
        shardId: target.id,
        error: isDomainError(error) ? error.code : error instanceof Error ? error.message : '',
      });
    }
  }

  private place(
    conversationId: string,
    id: string,
    context: MigrationContext,
    excluded: readonly string[],
  ): ShardView | undefined {
    const { pipeline, shards, routes, clock, queues } = this.deps;
    const routing = routeModel(routes.current(), context.model, conversationId, id);
    if (routing.kind === 'unknown-model') return undefined;
    const request = {
      conversationId,
      assignedShardId: excluded[0],
      promptBlocks: [],
      promptTokens: context.estimatedTokens,
      priority: 'standard' as const,
      purpose: 'migration' as const,
      excludedShardIds: excluded.filter((shardId) => shardId !== ''),
    };
    const nowMs = clock.nowMs();
    for (const pools of [[routing.pool], routing.fallbackPools]) {
      if (pools.length === 0) continue;
      const decision = pipeline.decide({ ...request, pools }, shards, nowMs, queues);
      if (decision.kind === 'placed') return decision.shard;
    }
    return undefined;
  }

  /** The ready shard conversation-state records the conversation on, if any. */
  private async recordedTarget(
    tenantId: string,
    conversationId: string,
  ): Promise<ShardView | undefined> {
    const lookup = await this.deps.conversations.context(tenantId, conversationId);
    return lookup.kind === 'found' ? this.readyShard(lookup.context.recordedShardId) : undefined;
  }

  private readyShard(shardId: string): ShardView | undefined {
    const shard = this.deps.shards.get(shardId);
    return shard?.state === 'ready' ? shard : undefined;
  }
}

/**
 * Runs `work` over `items` with at most `limit` in flight. After a failure no item starts, and the
 * first error is thrown once the items in flight have finished: nothing keeps running after the
 * caller has been told the work stopped.
 */
async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length && failures.length === 0) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.length > 0) throw failures[0];
}
