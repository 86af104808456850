// @spillway/messaging: the only package that imports kafkajs. Services depend on the ports and the
// topic registry; the Kafka adapter is chosen once, in a composition root.
export * from './ports.js';
export * from './codec.js';
export * from './topics.js';
export * from './cloudevents.js';
export * from './logger.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DeadlineExceeded,
  withDeadline,
  brokersUnreachable,
  databaseUnreachable,
} from './failures.js';
export {
  createKafkaMessaging,
  type KafkaMessagingOptions,
  type ConsumerTuning,
} from './kafka/kafka-messaging.js';
export { LruProcessedEvents, TieredProcessedEvents } from './dedup/lru-processed-events.js';
export {
  PostgresProcessedEvents,
  processedEventsTableName,
  type PostgresProcessedEventsOptions,
} from './dedup/postgres-processed-events.js';
export {
  createPostgresPool,
  connectPostgres,
  postgresTarget,
  type PostgresPoolOptions,
  type Queryable,
} from './postgres.js';
export {
  migrateOutbox,
  outboxMigrationSql,
  outboxNames,
  pruneOutbox,
  type OutboxLocation,
  type OutboxNames,
} from './outbox/outbox-schema.js';
export {
  enqueueOutbox,
  outboxInsert,
  outboxInsertFrom,
  outboxTopicValues,
  outboxHeadersJson,
  type EnqueueOptions,
  type OutboxInsert,
  type StoredHeaders,
} from './outbox/enqueue-outbox.js';
export { OutboxWakeup, type OutboxWakeupOptions } from './outbox/outbox-wakeup.js';
export { OutboxRelay, type OutboxRelayOptions } from './outbox/outbox-relay.js';
export { producerSpanName, consumerSpanName } from './tracing.js';
