import { isOverdue, type FailureDetectorConfig } from '../../domain/failure-detector.js';
import { isMonitored, type Shard } from '../../domain/shard.js';
import type { Clock } from '../ports/clock.port.js';
import type { ShardProbe } from '../ports/shard-probe.port.js';
import type { ShardRegistry } from '../registry/shard-registry.js';

export interface DetectFailuresResult {
  /** Shards this pass declared failed. */
  readonly failed: readonly Shard[];
  /** Shards that are overdue but could not be marked (e.g. PostgreSQL down); retried next pass. */
  readonly errors: readonly { readonly shardId: string; readonly error: unknown }[];
  /** Overdue shards that answered the probe: alive, recorded as heard from now. */
  readonly answeredProbe: readonly Shard[];
  /** Why each failed shard was not found serving when probed (absent without a probe). */
  readonly probeFailures: ReadonlyMap<string, string>;
}

/**
 * One pass of the failure detector: every monitored shard silent for longer than the threshold is
 * declared failed. The check is repeated inside the shard's command, so a heartbeat that arrives
 * in the meantime wins.
 *
 * With a probe, silence alone is not enough: an overdue shard is first asked directly, and one that
 * answers as itself with its engine ready is recorded as heard from (its answer is its load report)
 * instead of failed. A false failure is expensive (every conversation on the shard migrates, its
 * prefix cache is lost), and it comes exactly when a burst starves the machine's CPU; a real
 * failure costs the probe's timeout at most, and a killed process refuses the connection at once.
 */
export class DetectFailuresUseCase {
  constructor(
    private readonly registry: ShardRegistry,
    private readonly clock: Clock,
    private readonly config: FailureDetectorConfig,
    private readonly probe?: ShardProbe,
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
    const probe = this.probe;
    const answers = probe ? await Promise.all(overdue.map((shard) => probe.probe(shard))) : [];
    const answeredProbe: Shard[] = [];
    const probeFailures = new Map<string, string>();
    const outcomes = await Promise.allSettled(
      overdue.map(({ shardId }, index) => {
        const answer = answers[index];
        if (answer?.kind === 'serving') {
          return this.registry.execute(shardId, (now) => ({
            kind: 'RecordHeartbeat',
            shardId,
            load: answer.load,
            ready: true,
            nowMs: now,
          }));
        }
        if (answer !== undefined) probeFailures.set(shardId, answer.reason);
        return this.registry.execute(shardId, (now) => ({
          kind: 'DetectFailure',
          shardId,
          nowMs: now,
          watchingSinceMs,
          config: this.config,
        }));
      }),
    );
    const failed: Shard[] = [];
    const errors: { shardId: string; error: unknown }[] = [];
    outcomes.forEach((outcome, index) => {
      const shardId = overdue[index]?.shardId ?? '';
      if (outcome.status === 'rejected') errors.push({ shardId, error: outcome.reason });
      else if (answers[index]?.kind === 'serving' && outcome.value)
        answeredProbe.push(outcome.value);
      else if (outcome.value?.state === 'failed') failed.push(outcome.value);
    });
    return { failed, errors, answeredProbe, probeFailures };
  }
}
