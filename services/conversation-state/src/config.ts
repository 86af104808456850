import { env, loadConfig, z } from '@spillway/config';

export const conversationStateConfigSchema = z.object({
  GRPC_HOST: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port; the real one is printed on start. */
  GRPC_PORT: env.port(50053),
  /** Created on start when missing (on the same server, through its `postgres` database). */
  DATABASE_URL: env.postgresUrl('postgres://postgres@127.0.0.1:5432/spillway_conversation_state'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  KAFKA_BROKERS: env.hostPortList('127.0.0.1:19092'),
  CONVERSATION_EVENTS_TOPIC: z.string().min(1).default('spillway.conversation.events.v1'),
  /** Used only when the topic does not exist yet and is created on start. */
  CONVERSATION_EVENTS_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
  /** Snapshot a stream each time it crosses a multiple of this many events; 0 disables snapshots. */
  SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50),
  /** Conversation states kept in memory, each checked against the stream version before use. */
  STATE_CACHE_SIZE: z.coerce.number().int().min(0).default(10_000),
  /**
   * Append statements in flight at once. Appends to other conversations that arrive meanwhile wait
   * and share the next statement (group commit): fewer in flight means bigger groups, and fewer
   * statements, commits and WAL flushes per event on PostgreSQL.
   */
  APPEND_STATEMENTS_IN_FLIGHT: z.coerce.number().int().min(1).max(16).default(2),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  OUTBOX_POLL_INTERVAL_MS: env.durationMs(50),
  /** How long published outbox rows are kept before the relaying replica deletes them. */
  OUTBOX_RETENTION_MS: env.durationMs(3_600_000),
  /** false: this replica only writes the outbox; another one relays it. */
  OUTBOX_RELAY_ENABLED: env.bool(true),
});

export type ConversationStateConfig = z.infer<typeof conversationStateConfigSchema>;

export const CONVERSATION_STATE_CONFIG = Symbol('ConversationStateConfig');

export function loadConversationStateConfig(
  environment: NodeJS.ProcessEnv = process.env,
): ConversationStateConfig {
  return loadConfig('conversation-state', conversationStateConfigSchema, environment);
}
