import { common, type events, shard } from '@spillway/contracts';
import { isDomainError, type DomainError } from '@spillway/errors';
import {
  createKafkaMessaging,
  defineTopic,
  silentLogger,
  topics,
  type EventSubscriber,
} from '@spillway/messaging';
import { testInfrastructure, waitFor } from '@spillway/testing';
import { routeModel, type ModelRouteTable } from '../src/domain/index.js';
import {
  startRouterPlane,
  type PlaneRouter,
  type RouterPlane,
} from '../src/testing/router-plane.js';
import {
  aTurn,
  assistant,
  converse,
  prose,
  system,
  toReference,
  user,
  type TurnOutcome,
} from '../src/testing/turns.js';

// One plane for the file: the registry on Postgres, three shards in pool "stable" and one in pool
// "canary" (each a gpu-sim and an inference adapter), two router replicas. Tests run in order and
// share it; each leaves the shards without faults.
let plane: RouterPlane;
let one: PlaneRouter;
let two: PlaneRouter;

const stableOnly = (model: string): ModelRouteTable => ({
  models: {
    [model]: {
      pools: [
        { pool: 'stable', weight: 1 },
        { pool: 'canary', weight: 0 },
      ],
    },
  },
});

beforeAll(async () => {
  plane = await startRouterPlane({
    shards: [
      { id: 'stable-1', pool: 'stable', maxInFlight: 3 },
      { id: 'stable-2', pool: 'stable', maxInFlight: 3 },
      { id: 'stable-3', pool: 'stable', maxInFlight: 3 },
      { id: 'canary-1', pool: 'canary', maxInFlight: 4 },
    ],
    modelRoutes: stableOnly('sim-llama'),
    usageTopic: true,
  });
  one = await plane.startRouter({ RANDOM_SEED: '1', LOG_LEVEL: 'debug' });
  two = await plane.startRouter({ RANDOM_SEED: '2', LOG_LEVEL: 'debug' });
}, 120_000);

afterAll(async () => {
  await plane?.close();
}, 60_000);

function poolOf(shardId: string | undefined): string {
  return plane.shard(shardId ?? '').spec.pool;
}

/** A stateless turn keyed by conversation id: the client holds the history, both replicas place it. */
function statelessTurn(conversationId: string, messages: common.ChatMessage[]) {
  return aTurn({ conversationId, messages, stateless: true, model: plane.model });
}

async function expectDeterministic(
  history: readonly common.ChatMessage[],
  outcome: TurnOutcome,
): Promise<void> {
  expect(outcome.completed).toBeDefined();
  expect(outcome.text).toBe(await plane.referenceReply(history.map(toReference)));
}

describe('router', () => {
  it('keeps each conversation on one shard and replies with the simulator’s text for its whole history', async () => {
    // Three at a time: no shard can fill up (three stream slots each), so nothing spills.
    const conversations = await Promise.all(
      [0, 1, 2].map(async (c) => {
        const systemPrompt = `You are support agent ${c}. ${prose(c, 40)}`;
        const { conversation } = await one.client.startConversation({
          tenantId: 'tenant-1',
          model: plane.model,
          systemPrompt,
          conversationId: '',
          labels: { suite: 'affinity' },
        });
        const conversationId = conversation?.conversationId ?? '';
        const history = [system(systemPrompt)];
        const turns: {
          outcome: TurnOutcome;
          expected: { text: string; promptTokens: number; completionTokens: number };
        }[] = [];
        for (let t = 0; t < 3; t++) {
          const message = user(`Turn ${t}: ${prose(c * 10 + t, 20)}?`);
          const outcome = await converse(
            one.client,
            aTurn({ conversationId, messages: [message] }),
          );
          history.push(message);
          const expected = await plane.referenceCompletion(history.map(toReference));
          history.push(assistant(outcome.text));
          turns.push({ outcome, expected });
        }
        return { conversationId, history, turns };
      }),
    );

    for (const { conversationId, history, turns } of conversations) {
      const shards = new Set(turns.map(({ outcome }) => outcome.started?.shardId));
      expect(shards.size).toBe(1);
      expect(turns.map(({ outcome }) => outcome.started?.placementReason)).toEqual([
        'new',
        'affinity',
        'affinity',
      ]);
      for (const { outcome, expected } of turns) {
        expect(outcome.text).toBe(expected.text);
        expect(outcome.completed?.usage).toMatchObject({
          promptTokens: expected.promptTokens,
          completionTokens: expected.completionTokens,
        });
        expect(outcome.completed).toMatchObject({
          failovers: 0,
          shardId: outcome.started?.shardId,
          turnId: outcome.started?.turnId,
          finishReason: common.FinishReason.FINISH_REASON_STOP,
        });
      }
      const { conversation } = await one.client.getConversation({
        tenantId: 'tenant-1',
        conversationId,
      });
      expect(conversation?.messages.map(toReference)).toEqual(history.map(toReference));
      expect(conversation?.shardId).toBe(turns[0]?.outcome.started?.shardId);
      // Another tenant cannot see it.
      await expect(
        one.client.getConversation({ tenantId: 'tenant-2', conversationId }),
      ).rejects.toMatchObject({ code: 'CONVERSATION.NOT_FOUND' });
    }

    // One usage record per turn on the requests topic.
    const turnIds = new Set(
      conversations.flatMap(({ turns }) => turns.map(({ outcome }) => outcome.started?.turnId)),
    );
    const records: events.TurnUsageRecorded[] = [];
    const subscriber: EventSubscriber = createKafkaMessaging({
      brokers: testInfrastructure.kafkaBrokers,
      clientId: 'router-test',
      source: '/spillway/router-test',
      logger: silentLogger,
    })
      .createSubscriber({ groupId: plane.usageGroupId(), fromBeginning: true })
      .subscribe(
        defineTopic(plane.usageTopic ?? '', topics.requests.codec),
        async ({ event }) => void records.push(event),
      );
    await subscriber.start();
    try {
      await waitFor(() => records.filter((r) => turnIds.has(r.turnId)).length >= turnIds.size, {
        description: `${turnIds.size} usage records`,
        timeoutMs: 30_000,
      });
    } finally {
      await subscriber.stop();
    }
    const mine = records.filter((record) => turnIds.has(record.turnId));
    expect(new Set(mine.map((record) => record.turnId)).size).toBe(turnIds.size);
    expect(mine.length).toBe(turnIds.size);
    expect(mine[0]).toMatchObject({ tenantId: 'tenant-1', model: plane.model, failovers: 0 });
  }, 120_000);

  it('places new conversations that share a long prefix on the shard that holds it (router and shards hash prompts alike)', async () => {
    const document = `Reference manual. ${prose(777, 700)}`;
    const first = await converse(
      one.client,
      statelessTurn('manual-0', [system(document), user('Summarize the manual.')]),
    );
    const holder = first.started?.shardId ?? '';
    const doneAtMs = Date.now();
    // The holder's next heartbeats carry the manual's blocks; the routers get them by watch.
    await waitFor(
      async () => {
        const { shards } = await plane.registryClient.listShards({
          pool: '',
          includeRemoved: false,
        });
        return (shards.find((s) => s.shardId === holder)?.lastHeartbeatAtMs ?? 0) > doneAtMs + 300;
      },
      { description: `two heartbeats of ${holder}`, timeoutMs: 10_000 },
    );

    for (let i = 1; i <= 4; i++) {
      const outcome = await converse(
        (i % 2 === 0 ? one : two).client,
        statelessTurn(`manual-${i}`, [system(document), user(`Question ${i} about the manual?`)]),
      );
      expect(outcome.started).toMatchObject({ shardId: holder, placementReason: 'new' });
    }
  }, 60_000);

  it('two replicas place a conversation on one shard, refuse early what cannot start in time, and both follow a spill', async () => {
    const history = [system('You track parcels.'), user('Where is my parcel?')];
    const first = await converse(one.client, statelessTurn('pair-1', history));
    const home = first.started?.shardId ?? '';
    await expectDeterministic(history, first);
    history.push(assistant(first.text), user('And my refund?'));

    const second = await converse(two.client, statelessTurn('pair-1', history));
    expect(second.started).toMatchObject({ shardId: home, placementReason: 'affinity' });
    await expectDeterministic(history, second);
    history.push(assistant(second.text));

    // Make the home shard slow, then fill its three stream slots with long turns through replica
    // one: conversations pinned there (through the registry, as another replica would pin them).
    await plane.shard(home).setFault({ mode: 'slow', factor: 500 });
    const stopFillers = new AbortController();
    const fillers: Promise<unknown>[] = [];
    const fillersHome = ['filler-0', 'filler-1', 'filler-2'];
    try {
      for (const filler of fillersHome) {
        const { applied } = await plane.registryClient.compareAndSetAssignment({
          conversationId: filler,
          tenantId: 'tenant-1',
          shardId: home,
          expectedVersion: 0,
          reason: 'test',
        });
        expect(applied).toBe(true);
        const startedOn = new Promise<string>((resolve) => {
          fillers.push(
            // Batch turns never spill: they wait for the shard that holds their prefix.
            converse(
              one.client,
              {
                ...statelessTurn(filler, [...history, user(`${filler}.`)]),
                priority: common.Priority.PRIORITY_BATCH,
              },
              {
                signal: stopFillers.signal,
                onStarted: (started) => resolve(started.shardId),
              },
            ).catch(() => undefined),
          );
        });
        expect(await startedOn).toBe(home);
      }
      // Replica two learns from the home shard's load reports that it is full and slow.
      await waitFor(
        async () => {
          const { shards } = await plane.registryClient.listShards({
            pool: '',
            includeRemoved: false,
          });
          const load = shards.find((s) => s.shardId === home)?.load;
          return (load?.inFlightStreams ?? 0) >= 3 && (load?.itlMsP50 ?? 0) >= 50;
        },
        { description: `${home} reporting three slow streams in flight`, timeoutMs: 20_000 },
      );

      // A batch turn may not spill and cannot start within its budget: refused early, with a hint.
      const refused = await converse(
        two.client,
        aTurn({
          conversationId: fillersHome[0],
          messages: [...history, user('filler-0.'), user('One more thing.')],
          stateless: true,
          model: plane.model,
          priority: common.Priority.PRIORITY_BATCH,
          ttftBudgetMs: 1,
        }),
      ).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isDomainError(refused)).toBe(true);
      expect(refused).toMatchObject({
        code: 'DEADLINE.UNMEETABLE',
        details: { grpcStatus: 'RESOURCE_EXHAUSTED', shardId: home },
      });
      expect((refused as DomainError).retryAfterSeconds).toBeGreaterThan(0);

      // Replica two: the home shard would break the turn's budget, so the turn spills and re-pins.
      history.push(user('Anything else?'));
      const spilled = await converse(two.client, statelessTurn('pair-1', history)).catch(
        (error: unknown) => {
          // What replica two saw, for the record.
          const lines = two.process.output().filter((line) => /turn (placed|refused)/.test(line));
          process.stderr.write(`${lines.slice(-6).join('\n')}\n`);
          throw error;
        },
      );
      expect(spilled.started?.placementReason).toBe('spill');
      const target = spilled.started?.shardId ?? '';
      expect(target).not.toBe(home);
      await expectDeterministic(history, spilled);
      history.push(assistant(spilled.text), user('Thanks!'));

      // Replica one follows the new pin (from its watch, or from the registry's compare-and-set).
      const followed = await converse(one.client, statelessTurn('pair-1', history));
      expect(followed.started).toMatchObject({ shardId: target, placementReason: 'affinity' });
      await expectDeterministic(history, followed);
      const { assignment } = await plane.registryClient.getAssignment({ conversationId: 'pair-1' });
      expect(assignment).toMatchObject({ shardId: target, reason: 'spill' });
    } finally {
      await plane.shard(home).setFault({ mode: 'none' });
      stopFillers.abort();
      await Promise.all(fillers);
    }
  }, 120_000);

  it('splits a model between pools per conversation, deterministically, and a rollback takes effect at once', async () => {
    const canary: ModelRouteTable = {
      models: {
        [plane.model]: {
          pools: [
            { pool: 'stable', weight: 0.5 },
            { pool: 'canary', weight: 0.5 },
          ],
        },
      },
    };
    plane.setModelRoutes(canary);
    await Promise.all([one.reloadModelRoutes(), two.reloadModelRoutes()]);

    const ids = Array.from({ length: 10 }, (_, i) => `split-${i}`);
    const expectedPools = ids.map((id) => {
      const routing = routeModel(canary, plane.model, id);
      return routing.kind === 'routed' ? routing.pool : '';
    });
    expect(new Set(expectedPools)).toEqual(new Set(['stable', 'canary']));

    const histories = new Map<string, common.ChatMessage[]>();
    for (const [i, id] of ids.entries()) {
      const history = [user(`Hello from ${id}. ${prose(i, 10)}`)];
      const a = await converse(one.client, statelessTurn(id, history));
      history.push(assistant(a.text), user('Next question?'));
      const b = await converse(two.client, statelessTurn(id, history));
      history.push(assistant(b.text));
      histories.set(id, history);
      expect([poolOf(a.started?.shardId), poolOf(b.started?.shardId)]).toEqual([
        expectedPools[i],
        expectedPools[i],
      ]);
    }

    // Rollback: the canary's weight goes to 0; the very next turn of each canary conversation moves.
    plane.setModelRoutes(stableOnly(plane.model));
    await Promise.all([one.reloadModelRoutes(), two.reloadModelRoutes()]);
    for (const [i, id] of ids.entries()) {
      if (expectedPools[i] !== 'canary') continue;
      const history = [...(histories.get(id) ?? []), user('After the rollback?')];
      const moved = await converse((i % 2 === 0 ? one : two).client, statelessTurn(id, history));
      expect(poolOf(moved.started?.shardId)).toBe('stable');
      expect(moved.started?.placementReason).toBe('migration');
      await expectDeterministic(history, moved);
    }
    const { models } = await one.client.listModels({});
    expect(models.map((model) => model.id)).toEqual([plane.model]);
  }, 120_000);

  it('copies sampled turns to the shadow pool and compares the replies, never returning them', async () => {
    plane.setModelRoutes({
      models: {
        [plane.model]: {
          pools: [{ pool: 'stable', weight: 1 }],
          shadow: { pool: 'canary', sampleRate: 1 },
        },
      },
    });
    await one.reloadModelRoutes();
    const compared = (): string[] =>
      one.process.output().filter((line) => line.includes('shadow reply compared'));
    const before = compared().length;

    const history = [user('Is the shadow listening?')];
    const turn = await converse(one.client, statelessTurn('shadowed-1', history));

    expect(poolOf(turn.started?.shardId)).toBe('stable');
    await expectDeterministic(history, turn);
    // The simulator is deterministic, so the shadow's reply matches.
    await waitFor(() => compared().length > before, {
      description: 'the shadow comparison',
      timeoutMs: 20_000,
    });
    expect(compared().at(-1)).toContain('"result":"match"');
    expect(compared().at(-1)).toContain('"shardId":"canary-1"');

    plane.setModelRoutes(stableOnly(plane.model));
    await one.reloadModelRoutes();
  }, 60_000);

  it('re-watches a restarted registry, and a new replica rebuilds its view from the watch', async () => {
    const rebuilt = (router: PlaneRouter): number =>
      router.process.output().filter((line) => line.includes('shard directory rebuilt')).length;
    const before = [rebuilt(one), rebuilt(two)];
    const { assignment } = await plane.registryClient.getAssignment({ conversationId: 'pair-1' });
    const pinned = assignment?.shardId ?? '';

    const restartedAtMs = Date.now();
    await plane.restartRegistry();
    // Every adapter heartbeats the new registry before its restart grace ends (one that does not
    // is failed, and its conversations rightly fail over).
    await waitFor(
      async () => {
        const { shards } = await plane.registryClient.listShards({
          pool: '',
          includeRemoved: false,
        });
        return (
          shards.length === plane.shards.length &&
          shards.every(
            (s) =>
              s.state === shard.ShardState.SHARD_STATE_READY && s.lastHeartbeatAtMs > restartedAtMs,
          )
        );
      },
      { description: 'every shard heartbeating the restarted registry', timeoutMs: 20_000 },
    );
    await waitFor(() => rebuilt(one) > (before[0] ?? 0) && rebuilt(two) > (before[1] ?? 0), {
      description: 'both routers to watch the restarted registry',
      timeoutMs: 20_000,
    });

    const history = [user('Still there after the restart?')];
    const after = await converse(one.client, statelessTurn('pair-1', history));
    expect(after.started).toMatchObject({ shardId: pinned, placementReason: 'affinity' });

    const three = await plane.startRouter({ RANDOM_SEED: '3' });
    const fresh = await converse(three.client, statelessTurn('pair-1', history));
    expect(fresh.started).toMatchObject({ shardId: pinned, placementReason: 'affinity' });
    await expectDeterministic(history, fresh);
  }, 120_000);
});
