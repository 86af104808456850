import { type events } from '@spillway/contracts';
import type { ShardLifecycleEvent } from '../../domain/shard-events.js';
import type { Shard } from '../../domain/shard.js';

/** A domain lifecycle event as the protobuf message published on spillway.shard.lifecycle.v1. */
export function toLifecycleMessage(
  shard: Shard,
  event: ShardLifecycleEvent,
): events.ShardLifecycleEvent {
  const base = { shardId: event.shardId, pool: shard.pool, occurredAtMs: event.occurredAtMs };
  switch (event.type) {
    case 'ShardRegistered':
      return {
        ...base,
        event: {
          $case: 'registered',
          value: { endpoint: event.spec.endpoint, model: event.spec.model, zone: event.spec.zone },
        },
      };
    case 'ShardReady':
      return { ...base, event: { $case: 'ready', value: {} } };
    case 'ShardDraining':
      return { ...base, event: { $case: 'draining', value: { reason: event.reason } } };
    case 'ShardFailed':
      return {
        ...base,
        event: {
          $case: 'failed',
          value: { reason: event.reason, lastHeartbeatAtMs: event.lastHeartbeatAtMs },
        },
      };
    case 'ShardRemoved':
      return { ...base, event: { $case: 'removed', value: { reason: event.reason } } };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}
