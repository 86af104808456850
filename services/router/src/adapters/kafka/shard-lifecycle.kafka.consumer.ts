import type { events } from '@spillway/contracts';
import type {
  DeliveredEvent,
  EventSubscriber,
  HandlerContext,
  Messaging,
  Topic,
} from '@spillway/messaging';
import type { LogPort } from '../../application/index.js';
import type {
  MigrateConversations,
  MigrationReason,
} from '../../application/migrate-conversations/index.js';

export interface ShardLifecycleConsumerOptions {
  readonly topic: Topic<events.ShardLifecycleEvent>;
  /** Shared by every router replica: each lifecycle event is migrated by one of them. */
  readonly groupId: string;
  /** Passes over a shard before the event is handed back for redelivery. */
  readonly passes: number;
  readonly pauseBetweenPassesMs: number;
}

/** When the registry last registered the shard; undefined when it no longer knows the shard. */
export type ShardRegistrationLookup = (shardId: string) => Promise<number | undefined>;

/**
 * Feeds ShardFailed and ShardDraining to the migration saga. The handler resolves only when the
 * shard's conversations are all moved, so the offset is committed only then: a router killed
 * mid-migration leaves the event uncommitted and the group delivers it again, to this replica
 * after a restart or to another one, and the idempotent saga finishes the job. The saga heartbeats
 * the group between conversations, so a pass longer than the session timeout keeps its event.
 * Other lifecycle events are acknowledged and ignored.
 */
export class ShardLifecycleKafkaConsumer {
  private subscriber: EventSubscriber | undefined;

  constructor(
    private readonly messaging: Messaging,
    private readonly saga: MigrateConversations,
    private readonly options: ShardLifecycleConsumerOptions,
    private readonly log: LogPort,
    /** Without it every ShardFailed is acted on, however old. */
    private readonly registeredAtMs?: ShardRegistrationLookup,
  ) {}

  async start(): Promise<void> {
    // From the beginning: with no committed offset (a new group, or a partition never consumed),
    // starting at the end would skip an event a crashed replica left unfinished. Replays are cheap:
    // a shard already emptied lists no conversations.
    this.subscriber = this.messaging
      .createSubscriber({ groupId: this.options.groupId, fromBeginning: true })
      .subscribe(this.options.topic, (delivery, context) => this.handle(delivery, context));
    await this.subscriber.start();
  }

  async stop(): Promise<void> {
    await this.subscriber?.stop();
  }

  readonly handle = async (
    { event, metadata }: DeliveredEvent<events.ShardLifecycleEvent>,
    context: HandlerContext,
  ): Promise<void> => {
    const reason = migrationReason(event);
    if (reason === undefined) return;
    if (reason === 'shard-failed' && (await this.cameBackSince(event))) return;
    const cause = { reason, causeId: metadata.id, traceHeaders: metadata.headers };
    const heartbeat = (): Promise<void> => context.heartbeat();
    for (let pass = 1; pass <= this.options.passes; pass++) {
      const summary = await this.saga.migrateShard(event.shardId, cause, heartbeat);
      if (summary.remaining === 0) return;
      this.log.warn('conversations left on the shard after a migration pass', {
        shardId: event.shardId,
        pass,
        remaining: summary.remaining,
      });
      if (pass < this.options.passes) await sleep(this.options.pauseBetweenPassesMs);
    }
    throw new Error(
      `shard ${event.shardId}: conversations still pinned after ${this.options.passes} migration passes; the event is redelivered`,
    );
  };

  /**
   * A ShardFailed delivered again (a redelivery, a replay from the beginning) after the shard
   * re-registered describes a shard that no longer exists: the restarted one is serving and keeps
   * its conversations. Drains are always acted on: a draining shard must empty.
   */
  private async cameBackSince(event: events.ShardLifecycleEvent): Promise<boolean> {
    if (this.registeredAtMs === undefined) return false;
    const registeredAtMs = await this.registeredAtMs(event.shardId);
    if (registeredAtMs === undefined || registeredAtMs <= event.occurredAtMs) return false;
    this.log.info("ShardFailed is older than the shard's new registration; nothing to migrate", {
      shardId: event.shardId,
      failedAtMs: event.occurredAtMs,
      registeredAtMs,
    });
    return true;
  }
}

function migrationReason(event: events.ShardLifecycleEvent): MigrationReason | undefined {
  const change = event.event;
  if (change === undefined) return undefined;
  switch (change.$case) {
    case 'failed':
      return 'shard-failed';
    case 'draining':
      return 'shard-draining';
    case 'registered':
    case 'ready':
    case 'removed':
      return undefined;
    default: {
      const unknown: never = change;
      return unknown;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
