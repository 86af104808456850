import type { common, events } from '@spillway/contracts';
import type { EventPublisher, Topic } from '@spillway/messaging';
import type { LoadPublisherPort } from '../../application/load-publisher.port.js';

/**
 * ShardLoadReported on spillway.shard.load.v1 (or a test's private topic), keyed by shard id.
 * The producer connects on first use and again after a failed connection, so a broker that is
 * down at start-up delays load reports but never the shard.
 */
export class KafkaLoadPublisher implements LoadPublisherPort {
  private producer: Promise<EventPublisher> | undefined;

  constructor(
    private readonly connect: () => Promise<EventPublisher>,
    private readonly topic: Topic<events.ShardLoadReported>,
  ) {}

  async publish(shardId: string, pool: string, load: common.ShardLoad): Promise<void> {
    const producer = (this.producer ??= this.connect());
    let connected: EventPublisher;
    try {
      connected = await producer;
    } catch (error) {
      this.producer = undefined;
      throw error;
    }
    await connected.publish(this.topic, [{ key: shardId, event: { shardId, pool, load } }]);
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (!producer) return;
    try {
      await (await producer).close();
    } catch {
      // It never connected: nothing to close.
    }
  }
}
