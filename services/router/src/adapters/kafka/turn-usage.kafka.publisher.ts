import { type events } from '@spillway/contracts';
import { type EventPublisher, type Topic } from '@spillway/messaging';
import type { LogPort, TurnUsage, TurnUsagePublisher } from '../../application/index.js';
import { toProtoFinishReason, toProtoPriority, toProtoUsage } from '../protobuf/common.mapper.js';

/**
 * One TurnUsageRecorded per turn on `spillway.requests.v1`, keyed by conversation id. Sent in the
 * background: the turn's caller never waits for Kafka, and a failed send is logged, not retried
 * (usage is analytics, not billing of record). `ce_id` is the turn id, so consumers de-duplicate
 * a turn recorded twice. `flush()` waits for what is in flight.
 */
export class KafkaTurnUsagePublisher implements TurnUsagePublisher {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly publisher: EventPublisher,
    private readonly topic: Topic<events.TurnUsageRecorded>,
    private readonly log: LogPort,
  ) {}

  record(usage: TurnUsage): void {
    const event: events.TurnUsageRecorded = {
      turnId: usage.turnId,
      conversationId: usage.conversationId,
      tenantId: usage.tenantId,
      model: usage.model,
      shardId: usage.shardId,
      priority: toProtoPriority(usage.priority),
      usage: toProtoUsage(usage.usage),
      finishReason: toProtoFinishReason(usage.finishReason),
      ttftMs: usage.ttftMs,
      durationMs: usage.durationMs,
      failovers: usage.failovers,
      spilled: usage.spilled,
      completedAtMs: usage.completedAtMs,
    };
    const sending = this.publisher
      .publish(this.topic, [{ key: usage.conversationId, event, id: usage.turnId }])
      .then(
        () => undefined,
        (error: unknown) =>
          this.log.warn('usage record not published', {
            turnId: usage.turnId,
            error: error instanceof Error ? error.message : String(error),
          }),
      )
      .finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
