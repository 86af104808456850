import type { DomainError } from '@spillway/errors';
import { shardNotFound, shardRemoved } from './errors.js';
import {
  allowedSilenceMs,
  type FailureDetectorConfig,
  isOverdue,
  silenceMs,
} from './failure-detector.js';
import type { ShardEvent } from './shard-events.js';
import { isMonitored, sameSpec, type Shard, type ShardLoad, type ShardSpec } from './shard.js';

export type ShardCommand =
  RegisterShard | RecordHeartbeat | DrainShard | RemoveShard | DetectFailure;

export interface RegisterShard {
  readonly kind: 'RegisterShard';
  readonly spec: ShardSpec;
  readonly nowMs: number;
}

export interface RecordHeartbeat {
  readonly kind: 'RecordHeartbeat';
  readonly shardId: string;
  readonly load: ShardLoad | undefined;
  /** The engine behind the shard reports ready. */
  readonly ready: boolean;
  readonly nowMs: number;
}

export interface DrainShard {
  readonly kind: 'DrainShard';
  readonly shardId: string;
  readonly reason: string;
  readonly nowMs: number;
}

export interface RemoveShard {
  readonly kind: 'RemoveShard';
  readonly shardId: string;
  readonly reason: string;
  readonly nowMs: number;
}

export interface DetectFailure {
  readonly kind: 'DetectFailure';
  readonly shardId: string;
  readonly nowMs: number;
  readonly watchingSinceMs: number;
  readonly config: FailureDetectorConfig;
}

/** A shard that was never registered. */
export const initialState: Shard | undefined = undefined;

/** An expected refusal is a value; only bugs and outages throw. */
export type Decision =
  | { readonly ok: true; readonly events: readonly ShardEvent[] }
  | { readonly ok: false; readonly error: DomainError };

const accept = (...events: ShardEvent[]): Decision => ({ ok: true, events });
const refuse = (error: DomainError): Decision => ({ ok: false, error });

/** What a command does to a shard: the events it causes, none when it changes nothing, or a refusal. */
export function decide(command: ShardCommand, shard: Shard | undefined): Decision {
  switch (command.kind) {
    case 'RegisterShard':
      return decideRegister(command, shard);
    case 'RecordHeartbeat':
      return decideHeartbeat(command, shard);
    case 'DrainShard':
      return decideDrain(command, shard);
    case 'RemoveShard':
      return decideRemove(command, shard);
    case 'DetectFailure':
      return decideFailure(command, shard);
    default: {
      const unhandled: never = command;
      return unhandled;
    }
  }
}

function decideRegister({ spec, nowMs }: RegisterShard, shard: Shard | undefined): Decision {
  const registered: ShardEvent = {
    type: 'ShardRegistered',
    shardId: spec.shardId,
    occurredAtMs: nowMs,
    spec,
  };
  if (shard === undefined) return accept(registered);
  switch (shard.state) {
    case 'failed':
    case 'removed':
      // A new incarnation: it starts over and must report ready again.
      return accept(registered);
    case 'starting':
    case 'ready':
      // Idempotent: an adapter retrying its registration changes nothing.
      return sameSpec(shard, spec) ? accept() : accept(registered);
    case 'draining':
      // A drain is an operator's decision: an adapter that restarts (maybe on a new endpoint)
      // while its shard drains is recorded, and the drain goes on.
      return sameSpec(shard, spec)
        ? accept()
        : accept(registered, {
            type: 'ShardDraining',
            shardId: spec.shardId,
            occurredAtMs: nowMs,
            reason: 'still draining after the shard registered again',
          });
    default: {
      const unhandled: never = shard.state;
      return unhandled;
    }
  }
}

function decideHeartbeat(
  { shardId, load, ready, nowMs }: RecordHeartbeat,
  shard: Shard | undefined,
): Decision {
  if (shard === undefined) return refuse(shardNotFound(shardId));
  const recorded: ShardEvent = {
    type: 'ShardHeartbeatRecorded',
    shardId,
    occurredAtMs: nowMs,
    load,
  };
  switch (shard.state) {
    case 'starting':
      return ready
        ? accept(recorded, { type: 'ShardReady', shardId, occurredAtMs: nowMs })
        : accept(recorded);
    case 'ready':
    case 'draining':
      return accept(recorded);
    case 'failed':
    case 'removed':
      // The answer carries the state: a failed shard re-registers, a removed one stops.
      return accept();
    default: {
      const unhandled: never = shard.state;
      return unhandled;
    }
  }
}

function decideDrain({ shardId, reason, nowMs }: DrainShard, shard: Shard | undefined): Decision {
  if (shard === undefined) return refuse(shardNotFound(shardId));
  switch (shard.state) {
    case 'starting':
    case 'ready':
      return accept({ type: 'ShardDraining', shardId, occurredAtMs: nowMs, reason });
    case 'draining':
    case 'failed':
      // Already takes no new turns.
      return accept();
    case 'removed':
      return refuse(shardRemoved(shardId));
    default: {
      const unhandled: never = shard.state;
      return unhandled;
    }
  }
}

function decideRemove({ shardId, reason, nowMs }: RemoveShard, shard: Shard | undefined): Decision {
  if (shard === undefined) return refuse(shardNotFound(shardId));
  if (shard.state === 'removed') return accept();
  return accept({ type: 'ShardRemoved', shardId, occurredAtMs: nowMs, reason });
}

function decideFailure(command: DetectFailure, shard: Shard | undefined): Decision {
  if (shard === undefined || !isMonitored(shard.state)) return accept();
  const liveness = {
    nowMs: command.nowMs,
    lastHeartbeatAtMs: shard.lastHeartbeatAtMs,
    watchingSinceMs: command.watchingSinceMs,
  };
  if (!isOverdue(liveness, command.config)) return accept();
  return accept({
    type: 'ShardFailed',
    shardId: shard.shardId,
    occurredAtMs: command.nowMs,
    reason: `no heartbeat for ${silenceMs(liveness)} ms (limit ${allowedSilenceMs(liveness, command.config)} ms)`,
    lastHeartbeatAtMs: shard.lastHeartbeatAtMs,
  });
}

/**
 * The shard after an event. `revision` is left as it was: it is registry-wide, so the registry
 * assigns it when it applies the change.
 */
export function evolve(shard: Shard | undefined, event: ShardEvent): Shard {
  if (event.type === 'ShardRegistered') {
    return {
      ...event.spec,
      state: 'starting',
      load: undefined,
      // Registering is a sign of life: the shard gets a full threshold to send its first heartbeat.
      lastHeartbeatAtMs: event.occurredAtMs,
      registeredAtMs: event.occurredAtMs,
      revision: shard?.revision ?? 0,
    };
  }
  if (shard === undefined)
    throw new Error(`${event.type} for shard ${event.shardId}, which was never registered`);
  switch (event.type) {
    case 'ShardHeartbeatRecorded':
      return { ...shard, load: event.load ?? shard.load, lastHeartbeatAtMs: event.occurredAtMs };
    case 'ShardReady':
      return { ...shard, state: 'ready' };
    case 'ShardDraining':
      return { ...shard, state: 'draining' };
    case 'ShardFailed':
      return { ...shard, state: 'failed' };
    case 'ShardRemoved':
      return { ...shard, state: 'removed' };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

export function evolveAll(
  shard: Shard | undefined,
  events: readonly ShardEvent[],
): Shard | undefined {
  return events.reduce<Shard | undefined>((state, event) => evolve(state, event), shard);
}
