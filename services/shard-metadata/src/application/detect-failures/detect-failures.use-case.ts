import { isOverdue, type FailureDetectorConfig } from '../../domain/failure-detector.js';
import { isMonitored, type Shard } from '../../domain/shard.js';
import type { Clock } from '../ports/clock.port.js';
import type { ShardRegistry } from '../registry/shard-registry.js';

export interface DetectFailuresResult {
  /** Shards this pass declared failed. */
  readonly failed: readonly Shard[];
  /** Shards that are overdue but could not be marked (e.g. PostgreSQL down); retried next pass. */
  readonly errors: readonly { readonly shardId: string; readonly error: unknown }[];
}

/**
 * One pass of the failure detector: every monitored shard silent for longer than the threshold is
 * declared failed. The check is repeated inside the shard's command, so a heartbeat that arrives
 * in the meantime wins.
 */
export class DetectFailuresUseCase {
  constructor(
    private readonly registry: ShardRegistry,
    private readonly clock: Clock,
    private readonly config: FailureDetectorConfig,
  ) {}

  async execute(): Promise<DetectFailuresResult> {
    const nowMs = this.clock.nowMs();
    const watchingSinceMs = this.registry.watchingSinceMs;
    const overdue = [...this.registry.all()].filter(
      (shard) =>
        isMonitored(shard.state) &&
        // A command in flight for the shard (a heartbeat, or the previous pass's failure) goes first.
        !this.registry.isBusy(shard.shardId) &&
        isOverdue(
          { nowMs, lastHeartbeatAtMs: shard.lastHeartbeatAtMs, watchingSinceMs },
          this.config,
        ),
    );
    const outcomes = await Promise.allSettled(
      overdue.map(({ shardId }) =>
        this.registry.execute(shardId, (now) => ({
          kind: 'DetectFailure',
          shardId,
          nowMs: now,
          watchingSinceMs,
          config: this.config,
        })),
      ),
    );
    const failed: Shard[] = [];
    const errors: { shardId: string; error: unknown }[] = [];
    outcomes.forEach((outcome, index) => {
      const shardId = overdue[index]?.shardId ?? '';
      if (outcome.status === 'rejected') errors.push({ shardId, error: outcome.reason });
      else if (outcome.value?.state === 'failed') failed.push(outcome.value);
    });
    return { failed, errors };
  }
}
