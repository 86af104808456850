import { metrics, type Counter, type Histogram } from '@opentelemetry/api';
import type {
  MigrationMetrics,
  MigrationOutcome,
  MigrationReason,
} from '../../application/migrate-conversations/index.js';

/** The saga's OpenTelemetry instruments. */
export class OtelMigrationMetrics implements MigrationMetrics {
  private readonly conversations: Counter;
  private readonly prewarmFailures: Counter;
  private readonly duration: Histogram;

  constructor() {
    const meter = metrics.getMeter('@spillway/router');
    this.conversations = meter.createCounter('spillway.router.migration.conversations', {
      description: 'Conversations the migration saga handled, by reason and outcome',
    });
    this.prewarmFailures = meter.createCounter('spillway.router.migration.prewarm_failures', {
      description: 'Prewarms that failed (the conversation moved anyway)',
    });
    this.duration = meter.createHistogram('spillway.router.migration.duration', {
      description: "One pass of the saga over a failed or draining shard's conversations",
      unit: 'ms',
    });
  }

  conversationMigrated(reason: MigrationReason, outcome: MigrationOutcome): void {
    this.conversations.add(1, { reason, outcome });
  }

  prewarmFailed(): void {
    this.prewarmFailures.add(1);
  }

  shardMigrated(reason: MigrationReason, durationMs: number, conversations: number): void {
    this.duration.record(durationMs, { reason, empty: conversations === 0 });
  }
}
