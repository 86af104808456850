import {
  FakeRegistry,
  ManualClock,
  readyRuntime,
  RecordingLog,
} from '../../../test/fakes/fake-ports.js';
import { RegisterAndHeartbeat } from './register-and-heartbeat.use-case.js';

const descriptor = {
  shardId: 'shard-a1',
  pool: 'pool-8b',
  model: 'llama-3.1-8b',
  zone: 'zone-a',
  endpoint: '127.0.0.1:50051',
  maxInFlightStreams: 2,
  kvCapacityTokens: 0,
  hardwareProfile: 'h100',
  costPerHour: 1,
};
const settings = { intervalMs: 1_000, initialBackoffMs: 100, maxBackoffMs: 800 };

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++)
    await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition not reached');
}

describe('RegisterAndHeartbeat', () => {
  it('keeps retrying an unreachable registry with capped backoff, then registers and heartbeats', async () => {
    const registry = new FakeRegistry();
    registry.unreachableCalls = 6;
    const clock = new ManualClock();
    const log = new RecordingLog();
    const stop = new AbortController();
    const loop = new RegisterAndHeartbeat(
      readyRuntime(),
      registry,
      descriptor,
      log,
      clock,
      settings,
      () => 1,
    ).run(stop.signal);
    await until(() => registry.heartbeats.length >= 2);
    stop.abort();
    await loop;
    expect(clock.sleeps.slice(0, 6)).toEqual([100, 200, 400, 800, 800, 800]);
    expect(registry.registered).toHaveLength(1);
    // Registry asked for 500 ms heartbeats.
    expect(clock.sleeps[6]).toBe(500);
    expect(registry.heartbeats[0]).toMatchObject({ shardId: 'shard-a1', ready: true });
    expect(
      log.entries.filter((e) => e.message.startsWith('shard registry unreachable')),
    ).toHaveLength(1);
  });

  it('registers again when the registry forgot the shard, and drains when the registry says so', async () => {
    const registry = new FakeRegistry();
    registry.forgetShardOnce = true;
    registry.state = 'draining';
    const runtime = readyRuntime();
    const stop = new AbortController();
    const loop = new RegisterAndHeartbeat(
      runtime,
      registry,
      descriptor,
      new RecordingLog(),
      new ManualClock(),
      settings,
    ).run(stop.signal);
    await until(() => registry.heartbeats.length >= 1);
    stop.abort();
    await loop;
    expect(registry.registered).toHaveLength(2);
    expect(runtime.draining).toBe(true);
  });
});

describe('RegisterAndHeartbeat after the registry gave up on the shard', () => {
  it('registers again when declared failed, and stops heartbeating (draining) when removed', async () => {
    const registry = new FakeRegistry();
    registry.state = 'failed';
    const runtime = readyRuntime();
    const stop = new AbortController();
    const loop = new RegisterAndHeartbeat(
      runtime,
      registry,
      descriptor,
      new RecordingLog(),
      new ManualClock(),
      settings,
    ).run(stop.signal);
    await until(() => registry.registered.length >= 2);
    registry.state = 'removed';
    await loop;
    expect(runtime.draining).toBe(true);
    expect(stop.signal.aborted).toBe(false);
  });
});

describe('RegisterAndHeartbeat when the shard drains itself', () => {
  it('tells the registry in its heartbeats', async () => {
    const registry = new FakeRegistry();
    const runtime = readyRuntime();
    const stop = new AbortController();
    const loop = new RegisterAndHeartbeat(
      runtime,
      registry,
      descriptor,
      new RecordingLog(),
      new ManualClock(),
      settings,
    ).run(stop.signal);
    await until(() => registry.heartbeats.length >= 1);
    expect(registry.heartbeats[0]).toMatchObject({ ready: true, draining: false });
    runtime.drain();
    await until(() => registry.heartbeats.some((beat) => beat.draining));
    stop.abort();
    await loop;
  });
});
