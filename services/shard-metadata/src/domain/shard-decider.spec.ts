import type { DomainError } from '@spillway/errors';
import { aLoad, aShardSpec } from './test.factories.js';
import { decide, evolveAll, type ShardCommand } from './shard-decider.js';
import type { ShardEvent } from './shard-events.js';
import type { ShardSpec } from './shard.js';

const T0 = 1_000_000;
const detector = { failureAfterMs: 600, restartGraceMs: 5_000 };

/** Given these events happened, when this command arrives, then these events (or this error). */
function given(...events: ShardEvent[]) {
  const state = evolveAll(undefined, events);
  return {
    when(command: ShardCommand) {
      const decision = decide(command, state);
      return {
        thenEvents: (...expected: ShardEvent[]) => {
          expect(decision).toEqual({ ok: true, events: expected });
        },
        thenError: (code: DomainError['code'], message: RegExp) => {
          if (decision.ok)
            throw new Error(`expected ${code}, got events ${JSON.stringify(decision.events)}`);
          expect(decision.error.code).toBe(code);
          expect(decision.error.message).toMatch(message);
        },
      };
    },
  };
}

const registered = (spec: ShardSpec, at = T0): ShardEvent => ({
  type: 'ShardRegistered',
  shardId: spec.shardId,
  occurredAtMs: at,
  spec,
});
const ready = (shardId: string, at = T0 + 10): ShardEvent => ({
  type: 'ShardReady',
  shardId,
  occurredAtMs: at,
});
const heartbeatRecorded = (shardId: string, at: number, load = aLoad()): ShardEvent => ({
  type: 'ShardHeartbeatRecorded',
  shardId,
  occurredAtMs: at,
  load,
});

describe('shard decider', () => {
  const spec = aShardSpec({ shardId: 'shard-a' });
  const id = spec.shardId;

  describe('RegisterShard', () => {
    it('registers an unknown shard', () => {
      given().when({ kind: 'RegisterShard', spec, nowMs: T0 }).thenEvents(registered(spec));
    });

    it('is idempotent for a starting or ready shard with the same spec', () => {
      given(registered(spec))
        .when({ kind: 'RegisterShard', spec, nowMs: T0 + 5 })
        .thenEvents();
      given(registered(spec), ready(id))
        .when({ kind: 'RegisterShard', spec, nowMs: T0 + 5 })
        .thenEvents();
    });

    it('re-registers a shard whose spec changed (a new process at a new endpoint)', () => {
      const moved = { ...spec, endpoint: '127.0.0.1:60000' };
      given(registered(spec), ready(id))
        .when({ kind: 'RegisterShard', spec: moved, nowMs: T0 + 5 })
        .thenEvents(registered(moved, T0 + 5));
    });

    it('brings a failed shard back as a new incarnation', () => {
      const failed: ShardEvent = {
        type: 'ShardFailed',
        shardId: id,
        occurredAtMs: T0 + 700,
        reason: 'silent',
        lastHeartbeatAtMs: T0,
      };
      given(registered(spec), ready(id), failed)
        .when({ kind: 'RegisterShard', spec, nowMs: T0 + 900 })
        .thenEvents(registered(spec, T0 + 900));
      expect(
        evolveAll(undefined, [registered(spec), ready(id), failed, registered(spec, T0 + 900)])
          ?.state,
      ).toBe('starting');
    });

    it('keeps draining a shard that registers again with a different spec', () => {
      const moved = { ...spec, endpoint: '127.0.0.1:60001' };
      const draining: ShardEvent = {
        type: 'ShardDraining',
        shardId: id,
        occurredAtMs: T0 + 1,
        reason: 'scale-down',
      };
      given(registered(spec), draining)
        .when({ kind: 'RegisterShard', spec: moved, nowMs: T0 + 2 })
        .thenEvents(registered(moved, T0 + 2), {
          type: 'ShardDraining',
          shardId: id,
          occurredAtMs: T0 + 2,
          reason: 'still draining after the shard registered again',
        });
      given(registered(spec), draining)
        .when({ kind: 'RegisterShard', spec, nowMs: T0 + 2 })
        .thenEvents();
    });
  });

  describe('RecordHeartbeat', () => {
    it('makes a starting shard ready once the heartbeat says ready', () => {
      const load = aLoad();
      given(registered(spec))
        .when({ kind: 'RecordHeartbeat', shardId: id, load, ready: true, nowMs: T0 + 10 })
        .thenEvents(heartbeatRecorded(id, T0 + 10, load), ready(id, T0 + 10));
    });

    it('only records load while the engine is still loading', () => {
      const load = aLoad();
      given(registered(spec))
        .when({ kind: 'RecordHeartbeat', shardId: id, load, ready: false, nowMs: T0 + 10 })
        .thenEvents(heartbeatRecorded(id, T0 + 10, load));
    });

    it('refuses a shard that never registered', () => {
      given()
        .when({ kind: 'RecordHeartbeat', shardId: id, load: undefined, ready: true, nowMs: T0 })
        .thenError('SHARD.NOT_FOUND', /shard_id "shard-a" is not registered/);
    });

    it('changes nothing for a failed shard, which must register again', () => {
      given(registered(spec), {
        type: 'ShardFailed',
        shardId: id,
        occurredAtMs: T0 + 700,
        reason: 'silent',
        lastHeartbeatAtMs: T0,
      })
        .when({ kind: 'RecordHeartbeat', shardId: id, load: aLoad(), ready: true, nowMs: T0 + 800 })
        .thenEvents();
    });
  });

  describe('DrainShard', () => {
    it('drains a ready shard', () => {
      given(registered(spec), ready(id))
        .when({ kind: 'DrainShard', shardId: id, reason: 'scale-down', nowMs: T0 + 20 })
        .thenEvents({
          type: 'ShardDraining',
          shardId: id,
          occurredAtMs: T0 + 20,
          reason: 'scale-down',
        });
    });

    it('is idempotent', () => {
      given(registered(spec), {
        type: 'ShardDraining',
        shardId: id,
        occurredAtMs: T0 + 1,
        reason: 'x',
      })
        .when({ kind: 'DrainShard', shardId: id, reason: 'again', nowMs: T0 + 2 })
        .thenEvents();
    });

    it('refuses a removed shard', () => {
      given(registered(spec), {
        type: 'ShardRemoved',
        shardId: id,
        occurredAtMs: T0 + 1,
        reason: 'gone',
      })
        .when({ kind: 'DrainShard', shardId: id, reason: 'x', nowMs: T0 + 2 })
        .thenError('SHARD.NOT_FOUND', /was removed/);
    });
  });

  describe('RemoveShard', () => {
    it('removes a shard in any live state, once', () => {
      const removed: ShardEvent = {
        type: 'ShardRemoved',
        shardId: id,
        occurredAtMs: T0 + 30,
        reason: 'drained',
      };
      given(registered(spec), ready(id))
        .when({ kind: 'RemoveShard', shardId: id, reason: 'drained', nowMs: T0 + 30 })
        .thenEvents(removed);
      given(registered(spec), removed)
        .when({ kind: 'RemoveShard', shardId: id, reason: 'again', nowMs: T0 + 40 })
        .thenEvents();
    });

    it('refuses an unknown shard', () => {
      given()
        .when({ kind: 'RemoveShard', shardId: id, reason: '', nowMs: T0 })
        .thenError('SHARD.NOT_FOUND', /not registered/);
    });
  });

  describe('DetectFailure', () => {
    const check = (nowMs: number, watchingSinceMs = 0): ShardCommand => ({
      kind: 'DetectFailure',
      shardId: id,
      nowMs,
      watchingSinceMs,
      config: detector,
    });

    it('fails a shard silent for longer than the threshold', () => {
      given(registered(spec), ready(id), heartbeatRecorded(id, T0 + 100))
        .when(check(T0 + 701))
        .thenEvents({
          type: 'ShardFailed',
          shardId: id,
          occurredAtMs: T0 + 701,
          reason: 'no heartbeat for 601 ms (limit 600 ms)',
          lastHeartbeatAtMs: T0 + 100,
        });
    });

    it('leaves a shard that heartbeated within the threshold', () => {
      given(registered(spec), ready(id), heartbeatRecorded(id, T0 + 100))
        .when(check(T0 + 700))
        .thenEvents();
    });

    it('also fails starting and draining shards, which must heartbeat too', () => {
      given(registered(spec))
        .when(check(T0 + 601))
        .thenEvents(expect.objectContaining({ type: 'ShardFailed' }) as ShardEvent);
      given(registered(spec), { type: 'ShardDraining', shardId: id, occurredAtMs: T0, reason: 'x' })
        .when(check(T0 + 601))
        .thenEvents(expect.objectContaining({ type: 'ShardFailed' }) as ShardEvent);
    });

    it('counts silence only from when the registry started watching', () => {
      given(registered(spec), ready(id))
        .when(check(T0 + 10_000, T0 + 9_500))
        .thenEvents();
    });

    it('never fails a failed or removed shard again', () => {
      given(registered(spec), {
        type: 'ShardFailed',
        shardId: id,
        occurredAtMs: T0 + 601,
        reason: 'x',
        lastHeartbeatAtMs: T0,
      })
        .when(check(T0 + 5_000))
        .thenEvents();
      given(registered(spec), {
        type: 'ShardRemoved',
        shardId: id,
        occurredAtMs: T0 + 1,
        reason: 'x',
      })
        .when(check(T0 + 5_000))
        .thenEvents();
    });
  });

  describe('evolve', () => {
    it('keeps the last load and heartbeat time', () => {
      const load = aLoad({ waitingRequests: 9 });
      const shard = evolveAll(undefined, [
        registered(spec),
        ready(id),
        heartbeatRecorded(id, T0 + 50, load),
      ]);
      expect(shard).toMatchObject({
        state: 'ready',
        load,
        lastHeartbeatAtMs: T0 + 50,
        registeredAtMs: T0,
      });
    });
  });
});
