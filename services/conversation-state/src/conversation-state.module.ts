import { Module, type DynamicModule } from '@nestjs/common';
import { defineTopic, eventCodec } from '@spillway/messaging';
import { DataSource } from 'typeorm';
import { ServiceRuntime } from './adapters/runtime/service-runtime.js';
import { AppendEvents } from './application/append-events.js';
import { ConversationCommands } from './application/conversation-commands.js';
import { ConversationQueries } from './application/conversation-queries.js';
import {
  CLOCK,
  ID_GENERATOR,
  TOKEN_ESTIMATOR,
  type Clock,
  type IdGenerator,
} from './application/ports/clock.port.js';
import {
  CONVERSATION_EVENT_STORE,
  type ConversationEventStore,
} from './application/ports/conversation-event-store.port.js';
import { ConversationStoreGrpcController } from './adapters/grpc/conversation-store.grpc.controller.js';
import {
  createEventStoreDataSource,
  migrateEventStore,
} from './adapters/persistence/data-source.js';
import { ensureDatabase } from './adapters/persistence/ensure-database.js';
import { PostgresConversationEventStore } from './adapters/persistence/postgres-event-store.js';
import { EVENT_SOURCE } from './adapters/runtime/service-runtime.js';
import { systemClock, uuidGenerator } from './adapters/system/system-ports.js';
import { simulatorTokenEstimator } from './adapters/tokens/simulator-token-estimator.js';
import { CONVERSATION_STATE_CONFIG, type ConversationStateConfig } from './config.js';
import type { TokenEstimator } from './domain/context-window.js';

/** Composition root: wiring only. */
@Module({})
export class ConversationStateModule {
  static forConfig(config: ConversationStateConfig): DynamicModule {
    return {
      module: ConversationStateModule,
      providers: [
        { provide: CONVERSATION_STATE_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        { provide: ID_GENERATOR, useValue: uuidGenerator },
        { provide: TOKEN_ESTIMATOR, useFactory: simulatorTokenEstimator },
        {
          provide: DataSource,
          useFactory: async () => {
            await ensureDatabase(config.DATABASE_URL);
            const dataSource = createEventStoreDataSource({
              url: config.DATABASE_URL,
              poolSize: config.DATABASE_POOL_SIZE,
            });
            await dataSource.initialize();
            await migrateEventStore(dataSource);
            return dataSource;
          },
        },
        {
          provide: CONVERSATION_EVENT_STORE,
          inject: [DataSource, ID_GENERATOR],
          useFactory: (dataSource: DataSource, ids: IdGenerator) =>
            new PostgresConversationEventStore(dataSource, {
              snapshotEvery: config.SNAPSHOT_EVERY,
              stateCacheSize: config.STATE_CACHE_SIZE,
              topic: defineTopic(config.CONVERSATION_EVENTS_TOPIC, eventCodec('ConversationEvent')),
              source: EVENT_SOURCE,
              newId: () => ids.newId(),
              groupCommit: { maxInFlight: config.APPEND_STATEMENTS_IN_FLIGHT, maxWrites: 64 },
            }),
        },
        {
          provide: ConversationCommands,
          inject: [CONVERSATION_EVENT_STORE, CLOCK, ID_GENERATOR],
          useFactory: (store: ConversationEventStore, clock: Clock, ids: IdGenerator) =>
            new ConversationCommands(store, clock, ids),
        },
        {
          provide: AppendEvents,
          inject: [CONVERSATION_EVENT_STORE, ID_GENERATOR],
          useFactory: (store: ConversationEventStore, ids: IdGenerator) =>
            new AppendEvents(store, () => ids.newId()),
        },
        {
          provide: ConversationQueries,
          inject: [CONVERSATION_EVENT_STORE, TOKEN_ESTIMATOR],
          useFactory: (store: ConversationEventStore, tokens: TokenEstimator) =>
            new ConversationQueries(store, tokens),
        },
        ConversationStoreGrpcController,
        ServiceRuntime,
      ],
    };
  }
}
