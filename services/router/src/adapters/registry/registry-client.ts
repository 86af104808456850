import { shard } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';

export type RegistryClient = GrpcClient<typeof shard.ShardRegistryDefinition>;

/** Watches have no deadline of their own; this bound only keeps the timer finite (about 23 days). */
export const WATCH_DEADLINE_MS = 2_000_000_000;

export function createRegistryClient(address: string, deadlineMs: number): RegistryClient {
  return createGrpcClient(shard.ShardRegistryDefinition, address, {
    defaultDeadlineMs: deadlineMs,
    channelOptions: {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      // Reconnect soon after a registry restart; the watch loop has its own backoff on top.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
    },
  });
}
