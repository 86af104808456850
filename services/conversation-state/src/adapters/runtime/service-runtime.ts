import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { conversation } from '@spillway/contracts';
import { createGrpcServer, type GrpcServer } from '@spillway/grpc';
import {
  createKafkaMessaging,
  createPostgresPool,
  OutboxRelay,
  pruneOutbox,
  type EventPublisher,
} from '@spillway/messaging';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { CONVERSATION_STATE_CONFIG, type ConversationStateConfig } from '../../config.js';
import { ConversationStoreGrpcController } from '../grpc/conversation-store.grpc.controller.js';

export const EVENT_SOURCE = '/spillway/conversation-state';
const OUTBOX_PRUNE_INTERVAL_MS = 60_000;

/**
 * Starts and stops what the process serves, in order: the outbox relay (so committed events flow
 * before the first new write), then gRPC. Shutdown is the reverse, the database last.
 */
@Injectable()
export class ServiceRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private grpc: GrpcServer | undefined;
  private relay: OutboxRelay | undefined;
  private relayPool: Pool | undefined;
  private publisher: EventPublisher | undefined;
  private pruning: NodeJS.Timeout | undefined;

  constructor(
    @Inject(CONVERSATION_STATE_CONFIG) private readonly config: ConversationStateConfig,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ConversationStoreGrpcController)
    private readonly controller: ConversationStoreGrpcController,
  ) {}

  /** The bound gRPC port; valid after bootstrap. */
  get port(): number {
    if (!this.grpc) throw new Error('conversation-state is not started');
    return this.grpc.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.OUTBOX_RELAY_ENABLED) await this.startRelay();
    this.grpc = createGrpcServer({
      serviceName: 'conversation-state',
      services: [
        { definition: conversation.ConversationStoreDefinition, implementation: this.controller },
      ],
      port: this.config.GRPC_PORT,
      host: this.config.GRPC_HOST,
    });
    await this.grpc.start();
  }

  private async startRelay(): Promise<void> {
    const messaging = createKafkaMessaging({
      brokers: this.config.KAFKA_BROKERS,
      clientId: 'conversation-state',
      source: EVENT_SOURCE,
    });
    const admin = await messaging.connectTopicAdmin();
    try {
      await admin.ensureTopics([
        {
          name: this.config.CONVERSATION_EVENTS_TOPIC,
          partitions: this.config.CONVERSATION_EVENTS_PARTITIONS,
        },
      ]);
    } finally {
      await admin.close();
    }
    this.publisher = await messaging.connectPublisher();
    this.relayPool = createPostgresPool(this.config.DATABASE_URL, { max: 2 });
    this.relay = new OutboxRelay({
      pool: this.relayPool,
      publisher: this.publisher,
      batchSize: this.config.OUTBOX_BATCH_SIZE,
      pollIntervalMs: this.config.OUTBOX_POLL_INTERVAL_MS,
    });
    await this.relay.start();
    // Published rows are only kept for inspection; the relay never reads them again.
    const pool = this.relayPool;
    this.pruning = setInterval(() => {
      pruneOutbox(pool, this.config.OUTBOX_RETENTION_MS).catch(() => undefined);
    }, OUTBOX_PRUNE_INTERVAL_MS);
    this.pruning.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.pruning);
    await this.grpc?.shutdown();
    await this.relay?.stop();
    await this.publisher?.close();
    await this.relayPool?.end();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
