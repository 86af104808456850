import { shard } from '@spillway/contracts';
import { waitFor } from '@spillway/testing';
import {
  runFailoverScenario,
  type FailoverRun,
  type FailureInjection,
} from '../src/testing/failover-scenario.js';
import {
  startRouterPlane,
  type PlaneRouter,
  type RouterPlane,
} from '../src/testing/router-plane.js';
import { aTurn, assistant, converse, toReference, user } from '../src/testing/turns.js';

// Three shards streaming in real time (gpu-sim time scale 4: replies of up to 256 tokens take a few
// seconds), one router. Each test breaks one shard under 30 concurrent streaming turns and puts it
// back afterwards.
let plane: RouterPlane;
let router: PlaneRouter;

beforeAll(async () => {
  plane = await startRouterPlane({
    shards: ['a', 'b', 'c'].map((id) => ({
      id: `shard-${id}`,
      pool: 'pool-1',
      maxInFlight: 24,
      timeScale: 4,
    })),
    // A shard is failed after 2 s without a heartbeat: quick enough for the paused-adapter case,
    // and no false failures of the healthy shards when CI runs other suites beside this one (at
    // 600 ms a starved healthy shard was failed too, leaving failed-over turns nowhere to go).
    registryEnv: { HEARTBEAT_INTERVAL_MS: '200', FAILURE_AFTER_MS: '2000' },
  });
  // No stall timeout: a silent shard is only given up when the registry declares it failed.
  // Debug logs every placement: a failed turn's story is printed with the failure (see below).
  router = await plane.startRouter({
    STREAM_STALL_TIMEOUT_MS: '0',
    RANDOM_SEED: '7',
    LOG_LEVEL: 'debug',
  });
}, 120_000);

afterAll(async () => {
  await plane?.close();
}, 60_000);

async function expectEveryReplyWhole(run: FailoverRun): Promise<void> {
  const failed = run.turns.filter((turn) => turn.error !== undefined);
  if (failed.length > 0) printRouterLines(failed.map((turn) => turn.conversationId));
  expect(failed.map((turn) => String(turn.error))).toEqual([]);
  const completed = run.turns.filter((turn) => turn.outcome?.completed !== undefined);
  expect(completed).toHaveLength(run.turns.length);

  const expected = await Promise.all(
    run.turns.map((turn) => plane.referenceReply(turn.messages.map(toReference))),
  );
  run.turns.forEach((turn, i) => expect(turn.outcome?.text).toBe(expected[i]));

  // Streaming on the failed shard when the failure was injected. A turn whose last message was
  // already on the wire (a paused process's socket buffers still drain) may finish there; every
  // other one moved to another shard.
  const interrupted = run.turns.filter((turn) => turn.interrupted);
  expect(interrupted.length).toBeGreaterThanOrEqual(3);
  const movedOn = interrupted.filter((turn) => (turn.outcome?.completed?.failovers ?? 0) >= 1);
  for (const turn of interrupted) {
    const { failovers, shardId } = turn.outcome?.completed ?? {};
    if (failovers === 0) expect(shardId).toBe(run.failedShardId);
    else expect(shardId).not.toBe(run.failedShardId);
  }
  expect(movedOn.length).toBeGreaterThanOrEqual(1);
  // Resumed mid-stream, not restarted: text was already on screen for some of them.
  expect(movedOn.some((turn) => turn.deltasBeforeFailure > 0)).toBe(true);
}

/**
 * What the router logged about these conversations, and everything it logged besides other turns'
 * placements, for the failure's report: a flake under CI load should leave its story behind.
 */
function printRouterLines(conversationIds: readonly string[]): void {
  const lines = router.process
    .output()
    .filter(
      (line) =>
        conversationIds.some((id) => line.includes(id)) ||
        !/turn (placed|resumed|failing over)/.test(line),
    );
  process.stderr.write(`router log for ${conversationIds.join(', ')}:\n${lines.join('\n')}\n`);
}

async function restore(run: FailoverRun): Promise<void> {
  const failed = plane.shard(run.failedShardId);
  if (run.injection === 'kill-gpu-sim') await failed.restartGpuSim();
  else await failed.restartAdapter();
  await plane.waitForShardState(shard.ShardState.SHARD_STATE_READY);
}

describe('router failover', () => {
  it.each<FailureInjection>(['kill-gpu-sim', 'kill-adapter', 'pause-adapter'])(
    'completes every one of 30 streaming turns with the whole deterministic reply when a shard fails mid-stream (%s)',
    async (injection) => {
      const run = await runFailoverScenario(plane, {
        router,
        turns: 30,
        injection,
        label: `fo-${injection}`,
      });
      try {
        await expectEveryReplyWhole(run);
      } finally {
        await restore(run);
      }
    },
    120_000,
  );

  it('runs a turn elsewhere when its shard fails before the first token', async () => {
    const history = [user('Where is my order?')];
    const first = await converse(
      router.client,
      aTurn({ conversationId: 'early-1', messages: history, stateless: true, model: plane.model }),
    );
    const home = first.started?.shardId ?? '';
    history.push(assistant(first.text), user('Can you check again?'));

    // The engine exits as soon as the next request reaches it: nothing is streamed.
    await plane.shard(home).setFault({ mode: 'die', afterTokens: 0 });
    try {
      const next = await converse(
        router.client,
        aTurn({
          conversationId: 'early-1',
          messages: history,
          stateless: true,
          model: plane.model,
        }),
      );
      expect(next.started?.placementReason).toBe('failover');
      expect(next.started?.shardId).not.toBe(home);
      expect(next.completed).toMatchObject({ failovers: 1, shardId: next.started?.shardId });
      expect(next.text).toBe(await plane.referenceReply(history.map(toReference)));
      // The conversation is pinned where it ran.
      const { assignment } = await plane.registryClient.getAssignment({
        conversationId: 'early-1',
      });
      expect(assignment).toMatchObject({ shardId: next.started?.shardId, reason: 'failover' });
    } finally {
      await plane.shard(home).restartGpuSim();
    }
  }, 60_000);

  it('aborts the Generate call when the caller goes away', async () => {
    // Engines slowed a thousandfold: a reply would take minutes to finish on its own.
    await Promise.all(plane.shards.map((s) => s.setFault({ mode: 'slow', factor: 1_000 })));
    const controller = new AbortController();
    let shardId = '';
    const reading = converse(
      router.client,
      aTurn({
        conversationId: 'leaver-1',
        messages: [user('Tell me a long story about parcels.')],
        stateless: true,
        model: plane.model,
      }),
      {
        signal: controller.signal,
        onDelta: (outcome) => {
          shardId = outcome.started?.shardId ?? '';
          controller.abort();
        },
      },
    ).catch((error: unknown) => error);

    expect(await reading).toMatchObject({ name: 'AbortError' });
    // The adapter frees the stream slot only when its Generate call ends: it was cut, not finished.
    await waitFor(
      async () => {
        const { shards } = await plane.registryClient.listShards({
          pool: '',
          includeRemoved: false,
        });
        const load = shards.find((s) => s.shardId === shardId)?.load;
        return load !== undefined && load.inFlightStreams === 0;
      },
      { description: `${shardId} to report no stream in flight`, timeoutMs: 10_000 },
    );
    await Promise.all(plane.shards.map((s) => s.setFault({ mode: 'none' })));
  }, 60_000);
});
