import type { ShardLoad, ShardSpec } from './shard.js';

/**
 * What happened to a shard, as past-tense facts. All but ShardHeartbeatRecorded are lifecycle
 * events: they are persisted and published on spillway.shard.lifecycle.v1.
 */
export type ShardEvent =
  | ShardRegistered
  | ShardHeartbeatRecorded
  | ShardReady
  | ShardDraining
  | ShardFailed
  | ShardRemoved;

interface ShardEventBase {
  readonly shardId: string;
  readonly occurredAtMs: number;
}

/** A shard joined the registry, or came back (after failing or being removed) or changed its spec. */
export interface ShardRegistered extends ShardEventBase {
  readonly type: 'ShardRegistered';
  readonly spec: ShardSpec;
}

export interface ShardHeartbeatRecorded extends ShardEventBase {
  readonly type: 'ShardHeartbeatRecorded';
  readonly load: ShardLoad | undefined;
}

export interface ShardReady extends ShardEventBase {
  readonly type: 'ShardReady';
}

export interface ShardDraining extends ShardEventBase {
  readonly type: 'ShardDraining';
  readonly reason: string;
}

export interface ShardFailed extends ShardEventBase {
  readonly type: 'ShardFailed';
  readonly reason: string;
  readonly lastHeartbeatAtMs: number;
}

export interface ShardRemoved extends ShardEventBase {
  readonly type: 'ShardRemoved';
  readonly reason: string;
}

export type ShardLifecycleEvent = Exclude<ShardEvent, ShardHeartbeatRecorded>;

export function isLifecycleEvent(event: ShardEvent): event is ShardLifecycleEvent {
  return event.type !== 'ShardHeartbeatRecorded';
}
