import { inference, shard } from '@spillway/contracts';
import { type DomainError } from '@spillway/errors';
import { createGrpcServer } from '@spillway/grpc';
import { CE } from '@spillway/messaging';
import { waitFor } from '@spillway/testing';
import {
  aShard,
  collect,
  type ShardMetadataFixture,
  startShardMetadataFixture,
} from './support/shard-metadata.fixture.js';

const { ShardState } = shard;

describe('shard-metadata registry (in-process service, real PostgreSQL and Kafka)', () => {
  let fixture: ShardMetadataFixture;

  beforeAll(async () => {
    fixture = await startShardMetadataFixture();
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  async function failureOf(call: Promise<unknown>): Promise<DomainError> {
    try {
      await call;
    } catch (error) {
      return error as DomainError;
    }
    throw new Error('expected the call to fail');
  }

  it('registers a shard as STARTING, and a heartbeat that says ready makes it READY', async () => {
    const registration = aShard();
    const registered = await fixture.client.registerShard({ shard: registration });
    expect(registered.shard?.state).toBe(ShardState.SHARD_STATE_STARTING);
    expect(registered.heartbeatIntervalMs).toBe(100);

    const notYet = await fixture.client.heartbeat({ shardId: registration.shardId, ready: false });
    expect(notYet.state).toBe(ShardState.SHARD_STATE_STARTING);
    const load = {
      runningRequests: 2,
      waitingRequests: 1,
      kvCacheUsage: 0.5,
      inFlightStreams: 3,
      maxInFlightStreams: 32,
      ttftMsP50: 90,
      itlMsP50: 12,
      queueTimeMsP50: 0,
      prefixCacheHitRatio: 0.3,
      observedAtMs: Date.now(),
      recentPrefixBlocks: [7, 8],
    };
    const beat = await fixture.client.heartbeat({
      shardId: registration.shardId,
      ready: true,
      load,
    });
    expect(beat.state).toBe(ShardState.SHARD_STATE_READY);

    const { shards } = await fixture.client.listShards({
      pool: registration.pool,
      includeRemoved: false,
    });
    expect(shards.find((s) => s.shardId === registration.shardId)).toMatchObject({
      state: ShardState.SHARD_STATE_READY,
      load,
    });

    // Registering again with the same spec changes nothing (heartbeat first: the fixture fails a
    // shard after 600 ms of silence, which a loaded machine can spend on the calls above).
    await fixture.client.heartbeat({ shardId: registration.shardId, ready: true, load });
    const again = await fixture.client.registerShard({ shard: registration });
    expect(again.shard?.state).toBe(ShardState.SHARD_STATE_READY);

    await fixture.client.removeShard({ shardId: registration.shardId, reason: 'test done' });
  });

  it('marks a shard that stops heartbeating FAILED: a watcher sees it and ShardFailed is published', async () => {
    const registration = aShard({ pool: 'pool-failure' });
    await fixture.client.registerShard({ shard: registration });
    await fixture.client.heartbeat({ shardId: registration.shardId, ready: true });
    const watch = collect((signal) =>
      fixture.client.watchShards(
        { pool: 'pool-failure', lifecycleOnly: true },
        { signal, deadline: 60_000 },
      ),
    );

    // No more heartbeats: the detector (600 ms threshold) has to notice.
    const failed = await waitFor(
      () =>
        watch.received.find(
          (m) =>
            m.change?.$case === 'upserted' &&
            m.change.value.shardId === registration.shardId &&
            m.change.value.state === ShardState.SHARD_STATE_FAILED,
        ),
      {
        description: `a FAILED update for ${registration.shardId} on WatchShards`,
        timeoutMs: 10_000,
      },
    );
    expect(watch.received[0]?.change?.$case).toBe('snapshot');
    expect(failed.change?.$case === 'upserted' && failed.change.value.revision).toBeGreaterThan(0);
    await watch.stop();

    const event = await waitFor(
      () =>
        fixture.lifecycleEvents.find(
          (d) => d.event.shardId === registration.shardId && d.event.event?.$case === 'failed',
        ),
      {
        description: `ShardFailed for ${registration.shardId} on the lifecycle topic`,
        timeoutMs: 20_000,
      },
    );
    expect(event.metadata.key).toBe(registration.shardId);
    expect(event.metadata.headers[CE.type]).toBe('spillway.events.v1.ShardLifecycleEvent');
    expect(event.event).toMatchObject({
      pool: 'pool-failure',
      event: {
        $case: 'failed',
        value: { reason: expect.stringMatching(/no heartbeat/) as string },
      },
    });

    // A failed shard's heartbeat is answered with FAILED; registering again brings it back.
    expect(
      (await fixture.client.heartbeat({ shardId: registration.shardId, ready: true })).state,
    ).toBe(ShardState.SHARD_STATE_FAILED);
    expect((await fixture.client.registerShard({ shard: registration })).shard?.state).toBe(
      ShardState.SHARD_STATE_STARTING,
    );
    await fixture.client.removeShard({ shardId: registration.shardId, reason: 'test done' });
  });

  it('keeps a shard that misses its heartbeats but answers a direct probe, and fails it once it stops answering', async () => {
    // The shard's adapter, as far as the probe can tell: Inference.GetLoad at its endpoint.
    let answering = true;
    const notUsed = (): never => {
      throw new Error('not used by the probe');
    };
    const adapter = createGrpcServer({
      serviceName: 'probe-target',
      host: '127.0.0.1',
      port: 0,
      services: [
        {
          definition: inference.InferenceDefinition,
          implementation: {
            // eslint-disable-next-line require-yield
            async *generate() {
              notUsed();
            },
            prewarm: notUsed,
            drain: notUsed,
            getLoad: async () => {
              if (!answering) await new Promise((resolve) => setTimeout(resolve, 2_000));
              return {
                shardId: registration.shardId,
                ready: true,
                draining: false,
                load: undefined,
              };
            },
          },
        },
      ],
    });
    const port = await adapter.start();
    const registration = aShard({ pool: 'pool-probe', endpoint: `127.0.0.1:${port}` });
    try {
      await fixture.client.registerShard({ shard: registration });
      await fixture.client.heartbeat({ shardId: registration.shardId, ready: true });

      // No heartbeats for well over the 600 ms threshold; the probe keeps answering.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const { shards } = await fixture.client.listShards({ pool: 'pool-probe' });
      expect(shards.find((s) => s.shardId === registration.shardId)?.state).toBe(
        ShardState.SHARD_STATE_READY,
      );

      // A hung adapter (it takes the connection, never answers in time) is failed.
      answering = false;
      await waitFor(
        async () =>
          (await fixture.client.listShards({ pool: 'pool-probe' })).shards.find(
            (s) => s.shardId === registration.shardId,
          )?.state === ShardState.SHARD_STATE_FAILED,
        {
          description: `${registration.shardId} FAILED once it stops answering`,
          timeoutMs: 10_000,
        },
      );
      expect(
        fixture.lifecycleEvents.filter(
          (d) => d.event.shardId === registration.shardId && d.event.event?.$case === 'failed',
        ).length,
      ).toBeLessThanOrEqual(1);
    } finally {
      await adapter.shutdown(0);
      await fixture.client.removeShard({ shardId: registration.shardId, reason: 'test done' });
    }
  });

  it('drains a shard: the answer says DRAINING, watchers see it and ShardDraining is published', async () => {
    const registration = aShard({ pool: 'pool-drain' });
    await fixture.client.registerShard({ shard: registration });
    await fixture.client.heartbeat({ shardId: registration.shardId, ready: true });
    const watch = collect((signal) =>
      fixture.client.watchShards(
        { pool: 'pool-drain', lifecycleOnly: false },
        { signal, deadline: 60_000 },
      ),
    );
    await waitFor(() => watch.received.length > 0, { description: 'the WatchShards snapshot' });

    const drained = await fixture.client.drainShard({
      shardId: registration.shardId,
      reason: 'scale-down',
    });
    expect(drained.shard?.state).toBe(ShardState.SHARD_STATE_DRAINING);
    await waitFor(
      () =>
        watch.received.some(
          (m) =>
            m.change?.$case === 'upserted' &&
            m.change.value.state === ShardState.SHARD_STATE_DRAINING,
        ),
      { description: 'a DRAINING update on WatchShards' },
    );

    const event = await waitFor(
      () =>
        fixture.lifecycleEvents.find(
          (d) => d.event.shardId === registration.shardId && d.event.event?.$case === 'draining',
        ),
      { description: `ShardDraining for ${registration.shardId}`, timeoutMs: 20_000 },
    );
    expect(event.event.event).toEqual({ $case: 'draining', value: { reason: 'scale-down' } });
    // Events for one shard arrive in the order they happened.
    const kinds = fixture.lifecycleEvents
      .filter((d) => d.event.shardId === registration.shardId)
      .map((d) => d.event.event?.$case);
    expect(kinds).toEqual(['registered', 'ready', 'draining']);

    await fixture.client.removeShard({ shardId: registration.shardId, reason: 'drained' });
    await waitFor(
      () =>
        watch.received.some(
          (m) => m.change?.$case === 'removedShardId' && m.change.value === registration.shardId,
        ),
      {
        description: 'removed_shard_id on WatchShards',
      },
    );
    await watch.stop();
  });

  it('streams the snapshot first, then changes in increasing revision order', async () => {
    const pool = 'pool-order';
    const first = aShard({ pool });
    await fixture.client.registerShard({ shard: first });
    const watch = collect((signal) =>
      fixture.client.watchShards({ pool, lifecycleOnly: false }, { signal, deadline: 60_000 }),
    );
    await waitFor(() => watch.received.length > 0, { description: 'the WatchShards snapshot' });
    const second = aShard({ pool });
    await fixture.client.registerShard({ shard: second });
    for (let i = 0; i < 5; i++)
      await fixture.client.heartbeat({
        shardId: i % 2 ? first.shardId : second.shardId,
        ready: true,
      });
    await waitFor(() => watch.received.length >= 1 + 1 + 5 + 2, {
      description: 'the registration and heartbeats on WatchShards',
    });
    await watch.stop();

    const [snapshot, ...changes] = watch.received;
    expect(snapshot?.change?.$case).toBe('snapshot');
    const snapshotRevision =
      snapshot?.change?.$case === 'snapshot' ? snapshot.change.value.revision : 0;
    expect(
      snapshot?.change?.$case === 'snapshot' && snapshot.change.value.shards.map((s) => s.shardId),
    ).toEqual([first.shardId]);
    const revisions = changes.map((m) =>
      m.change?.$case === 'upserted' ? m.change.value.revision : NaN,
    );
    expect(revisions.every((revision) => revision > snapshotRevision)).toBe(true);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
  });

  describe('bad input', () => {
    it.each([
      ['an empty shard_id', 'shard.shard_id', { shardId: '' }],
      ['an endpoint without a port', 'shard.endpoint', { endpoint: 'localhost' }],
      ['an endpoint with port 0', 'shard.endpoint', { endpoint: '127.0.0.1:0' }],
      ['an empty pool', 'shard.pool', { pool: '' }],
    ])('RegisterShard with %s is INVALID_ARGUMENT naming %s', async (_case, field, overrides) => {
      const error = await failureOf(fixture.client.registerShard({ shard: aShard(overrides) }));
      expect(error.code).toBe('REQUEST.INVALID');
      expect(error.details).toMatchObject({ grpcStatus: 'INVALID_ARGUMENT', field });
      expect(error.message).toContain(field);
    });

    it('RegisterShard without a shard is INVALID_ARGUMENT naming shard', async () => {
      const error = await failureOf(fixture.client.registerShard({}));
      expect(error.details).toMatchObject({ grpcStatus: 'INVALID_ARGUMENT', field: 'shard' });
    });

    it('Heartbeat of an unknown shard is NOT_FOUND naming shard_id', async () => {
      const error = await failureOf(
        fixture.client.heartbeat({ shardId: 'never-registered', ready: true }),
      );
      expect(error.code).toBe('SHARD.NOT_FOUND');
      expect(error.details).toMatchObject({ grpcStatus: 'NOT_FOUND', field: 'shard_id' });
      expect(error.message).toMatch(/shard_id "never-registered" is not registered/);
    });

    it('Heartbeat with an empty shard_id is INVALID_ARGUMENT', async () => {
      const error = await failureOf(fixture.client.heartbeat({ shardId: '', ready: true }));
      expect(error.details).toMatchObject({ grpcStatus: 'INVALID_ARGUMENT', field: 'shard_id' });
    });

    it('DrainShard of an unknown shard is NOT_FOUND', async () => {
      const error = await failureOf(
        fixture.client.drainShard({ shardId: 'never-registered', reason: '' }),
      );
      expect(error.details).toMatchObject({ grpcStatus: 'NOT_FOUND', field: 'shard_id' });
    });
  });
});
