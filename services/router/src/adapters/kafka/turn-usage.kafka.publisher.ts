import { type events } from '@spillway/contracts';
import {
  encodeEvent,
  type EncodedEvent,
  type EncodedEventPublisher,
  type Topic,
} from '@spillway/messaging';
import { injectTraceContext } from '@spillway/telemetry';
import type { LogPort, TurnUsage, TurnUsagePublisher } from '../../application/index.js';
import { toProtoFinishReason, toProtoPriority, toProtoUsage } from '../protobuf/common.mapper.js';

export interface TurnUsageBatching {
  /** `ce_source` of the records: the router's, as its publisher would set it. */
  readonly source: string;
  /** How long a record may wait for others to share its Kafka request. */
  readonly lingerMs: number;
  /** A batch this large leaves at once. */
  readonly maxBatch: number;
}

export const DEFAULT_USAGE_BATCHING: TurnUsageBatching = {
  source: '/spillway/router',
  lingerMs: 50,
  maxBatch: 500,
};

/**
 * One TurnUsageRecorded per turn on `spillway.requests.v1`, keyed by conversation id. Sent in the
 * background: the turn's caller never waits for Kafka, and a failed send is logged, not retried
 * (usage is analytics, not billing of record). `ce_id` is the turn id, so consumers de-duplicate
 * a turn recorded twice. `flush()` sends what is waiting and waits for what is in flight.
 *
 * Records are encoded (and take their turn's trace context) when the turn ends, then leave
 * together, one Kafka request per `lingerMs` instead of one per turn: at hundreds of turns per
 * second the per-request cost of the producer was a tenth of the router's CPU. Each record keeps
 * its own producer span under its own turn's trace (publishEncoded starts one per event).
 */
export class KafkaTurnUsagePublisher implements TurnUsagePublisher {
  private readonly pending = new Set<Promise<void>>();
  private batch: EncodedEvent[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly publisher: EncodedEventPublisher,
    private readonly topic: Topic<events.TurnUsageRecorded>,
    private readonly log: LogPort,
    private readonly batching: TurnUsageBatching = DEFAULT_USAGE_BATCHING,
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
    this.batch.push(
      encodeEvent(
        this.topic,
        { key: usage.conversationId, event, id: usage.turnId },
        this.batching.source,
        injectTraceContext<Record<string, string>>({}),
      ),
    );
    if (this.batch.length >= this.batching.maxBatch) this.send();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.send(), this.batching.lingerMs);
      // Records still waiting at exit are sent by flush(), which stop() calls.
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    this.send();
    await Promise.all([...this.pending]);
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    const sending = this.publisher
      .publishEncoded(batch)
      .then(
        () => undefined,
        (error: unknown) =>
          this.log.warn('usage records not published', {
            records: batch.length,
            firstTurnId: batch[0]?.id,
            error: error instanceof Error ? error.message : String(error),
          }),
      )
      .finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }
}
