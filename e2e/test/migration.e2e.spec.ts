import { randomUUID } from 'node:crypto';
import { chat, common, conversation, events, shard } from '@spillway/contracts';
import { planChatReply } from '@spillway/gpu-sim';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import { createTestTopics, waitFor, type TestTopics } from '@spillway/testing';
import { startKillableShard, type KillableShard } from './support/killable-shard.js';
import {
  startLinkedSpanCollector,
  type LinkedSpanCollector,
} from './support/linked-span-collector.js';
import { startSystem, type RunningSystem } from './support/running-system.js';

// Issue 5: a shard with 200 pinned conversations is killed; every conversation continues on another
// shard with its whole history, and each has exactly one ConversationMigrated. The system is the
// one `npm start` runs (shard-a and shard-b among its children); shard-c is started the same way
// by this suite, because start.mjs stops everything when one of its children dies.
const PORT_OFFSET = 4000; // beside system.e2e (3000); no port here is one fetch refuses
const CONVERSATIONS = 200;
const CONCURRENCY = 16;
const MAX_TOKENS = 6;
const TENANT = 'tenant-e2e-migration';
const MODEL = 'spillway-8b';
const VICTIM_INDEX = 2; // shard-c
const TIME_SCALE = '0.05';
const MODEL_LOAD_MS = '200';

type ChatClient = GrpcClient<typeof chat.ChatServiceDefinition>;
type RegistryClient = GrpcClient<typeof shard.ShardRegistryDefinition>;
type StoreClient = GrpcClient<typeof conversation.ConversationStoreDefinition>;
type Message = { role: 'user' | 'assistant'; content: string };

interface Turn {
  readonly text: string;
  readonly shardId: string;
  readonly placementReason: string;
  readonly failovers: number;
}

let collector: LinkedSpanCollector;
let lifecycle: TestTopics<'lifecycle'>;
let system: RunningSystem;
let victim: KillableShard;
let chatClient: ChatClient;
let registry: RegistryClient;
let store: StoreClient;

const ids = Array.from(
  { length: CONVERSATIONS },
  (_, i) => `e2e-mig-${String(i).padStart(3, '0')}-${randomUUID().slice(0, 8)}`,
);
const histories = new Map<string, Message[]>(ids.map((id) => [id, []]));

beforeAll(async () => {
  collector = await startLinkedSpanCollector();
  // This system's own lifecycle topic and migration group: another system on the broker (the
  // system suite, a developer's `npm start`) has a shard-c too, and must never see our events.
  lifecycle = await createTestTopics({ lifecycle: 3 }, { prefix: 'e2e-migration' });
  // shard-c starts beside the system: its adapter registers as soon as shard-metadata is up.
  const [startedSystem, startedVictim] = await Promise.allSettled([
    startSystem({
      portOffset: PORT_OFFSET,
      shards: VICTIM_INDEX,
      databasePrefix: `spillway_e2emig_${process.pid}`,
      readyTimeoutMs: 240_000,
      env: {
        SPILLWAY_TIME_SCALE: TIME_SCALE,
        SPILLWAY_MODEL_LOAD_MS: MODEL_LOAD_MS,
        // 1 s (the default) declares live shards failed when the machine is starved (CI, shared
        // cores): each false failure is one more migration, and this suite counts them.
        FAILURE_AFTER_MS: '5000',
        // The same starvation stretches the router's calls to conversation-state and the registry.
        CONVERSATION_STORE_DEADLINE_MS: '20000',
        REGISTRY_DEADLINE_MS: '10000',
        SHARD_LIFECYCLE_TOPIC: lifecycle.names.lifecycle,
        MIGRATION_CONSUMER_GROUP: lifecycle.groupId('router-migration'),
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.tracesUrl,
      },
    }),
    startKillableShard({
      index: VICTIM_INDEX,
      portOffset: PORT_OFFSET,
      timeScale: TIME_SCALE,
      modelLoadMs: MODEL_LOAD_MS,
    }),
  ]);
  if (startedSystem.status === 'fulfilled') system = startedSystem.value;
  if (startedVictim.status === 'fulfilled') victim = startedVictim.value;
  for (const started of [startedSystem, startedVictim]) {
    if (started.status === 'rejected') throw started.reason;
  }
  const options = { defaultDeadlineMs: 30_000 };
  chatClient = createGrpcClient(
    chat.ChatServiceDefinition,
    `127.0.0.1:${50051 + PORT_OFFSET}`,
    options,
  );
  registry = createGrpcClient(
    shard.ShardRegistryDefinition,
    `127.0.0.1:${50070 + PORT_OFFSET}`,
    options,
  );
  store = createGrpcClient(
    conversation.ConversationStoreDefinition,
    `127.0.0.1:${50053 + PORT_OFFSET}`,
    options,
  );
}, 300_000);

afterAll(async () => {
  chatClient?.close();
  registry?.close();
  store?.close();
  await victim?.stop();
  await system?.stop();
  await lifecycle?.cleanup();
  await collector?.stop();
}, 90_000);

it('pins 200 conversations to shard-c, each served there with the simulator text', async () => {
  await waitFor(() => routerPlacesOn(victim.shardId), {
    description: `the router to place a turn pinned to ${victim.shardId} there`,
    timeoutMs: 30_000,
    intervalMs: 250,
  });

  const first = await forEachBounded(ids, async (id, i) => {
    await chatClient.startConversation({ tenantId: TENANT, model: MODEL, conversationId: id });
    await pin(TENANT, id, victim.shardId);
    return userTurn(id, `Where is parcel ${i}? It left the depot on Monday.`);
  });

  expect(first.filter((turn) => turn.shardId !== victim.shardId)).toEqual([]);
  const onVictim = new Set((await listOnShard(victim.shardId)).map((a) => a.conversationId));
  expect(ids.filter((id) => !onVictim.has(id))).toEqual([]);
}, 240_000);

it('after SIGKILL of shard-c, every conversation continues on a live shard with its whole history', async () => {
  await victim.kill();
  await waitFor(async () => (await shardStates()).get(victim.shardId) === 'SHARD_STATE_FAILED', {
    description: `the registry to declare ${victim.shardId} failed`,
    timeoutMs: 20_000,
    intervalMs: 100,
  });
  await waitFor(async () => (await listOnShard(victim.shardId)).length === 0, {
    description: `the migration saga to move every conversation off ${victim.shardId}`,
    timeoutMs: 150_000,
    intervalMs: 200,
  });

  const second = await forEachBounded(ids, (id, i) =>
    userTurn(id, `Parcel ${i} still has not arrived. What now?`),
  );

  const live = liveShards(await shardStates());
  expect(live).not.toContain(victim.shardId);
  // The saga re-pinned each conversation before its next turn: that turn found its shard by
  // affinity, not by failing over, and got the reply to its whole history (userTurn checks it).
  expect(second.filter((turn) => !live.includes(turn.shardId))).toEqual([]);
  expect(second.filter((turn) => turn.placementReason !== 'affinity')).toEqual([]);
  expect(second.filter((turn) => turn.failovers !== 0)).toEqual([]);
}, 360_000);

it('records exactly one ConversationMigrated per conversation, to the shard it is pinned to now', async () => {
  const live = liveShards(await shardStates());
  const wrong = await forEachBounded(ids, async (id) => {
    const [read, assignment] = await Promise.all([
      store.readStream({ tenantId: TENANT, conversationId: id, fromVersion: 1, maxCount: 1_000 }),
      registry.getAssignment({ conversationId: id }),
    ]);
    const migrated = read.events
      .filter((event) => event.type === 'ConversationMigrated')
      .map((event) => events.ConversationEvent.decode(event.payload).event)
      .flatMap((event) => (event?.$case === 'migrated' ? [event.value] : []));
    const pinnedTo = assignment.assignment?.shardId ?? '(none)';
    const ok =
      migrated.length === 1 &&
      migrated[0]?.fromShardId === victim.shardId &&
      migrated[0]?.toShardId === pinnedTo &&
      live.includes(pinnedTo);
    return ok ? undefined : { id, pinnedTo, migrated };
  });
  expect(wrong.filter((entry) => entry !== undefined)).toEqual([]);
}, 60_000);

it("links every conversation's migration trace to the trace of the ShardFailed event", async () => {
  const migrationSpans = () =>
    collector.spans.filter(
      (span) =>
        span.serviceName === 'router' &&
        span.name === 'migrate conversation' &&
        histories.has(String(span.attributes['spillway.conversation_id'])),
    );
  await waitFor(
    () =>
      new Set(migrationSpans().map((s) => s.attributes['spillway.conversation_id'])).size ===
      CONVERSATIONS,
    { description: `router spans migrating all ${CONVERSATIONS} conversations`, timeoutMs: 20_000 },
  );

  const spans = migrationSpans().filter(
    (span) => span.attributes['spillway.migration.outcome'] === 'migrated',
  );
  expect(new Set(spans.map((s) => s.attributes['spillway.conversation_id'])).size).toBe(
    CONVERSATIONS,
  );
  const causes = new Set(
    spans.map((span) => String(span.attributes['spillway.migration.cause_id'])),
  );
  // The lifecycle event each migration names as its cause, as shard-metadata published it.
  const published = new Map(
    await Promise.all(
      [...causes].map(async (causeId) => {
        const span = await waitFor(
          () =>
            collector.spans.find(
              (candidate) =>
                candidate.serviceName === 'shard-metadata' &&
                candidate.attributes['messaging.message.id'] === causeId &&
                candidate.attributes['messaging.destination.name'] === lifecycle.names.lifecycle,
            ),
          { description: `shard-metadata's publish span of event ${causeId}`, timeoutMs: 10_000 },
        );
        return [causeId, span] as const;
      }),
    ),
  );
  for (const span of spans) {
    const cause = published.get(String(span.attributes['spillway.migration.cause_id']));
    expect(cause?.attributes['messaging.kafka.message.key']).toBe(victim.shardId);
    expect(span).toMatchObject({
      // Its own trace, not a child of the event's: a linked root.
      parentSpanId: '',
      attributes: {
        'spillway.migration.reason': 'shard-failed',
        'spillway.migration.from_shard': victim.shardId,
      },
      links: [{ traceId: cause?.traceId, spanId: cause?.spanId }],
    });
    expect(span.traceId).not.toBe(cause?.traceId);
  }
}, 60_000);

/** One user turn through ChatService; asserts the reply is the simulator's for the whole history. */
async function userTurn(conversationId: string, content: string): Promise<Turn> {
  const history = histories.get(conversationId) ?? [];
  history.push({ role: 'user', content });
  const turn = await converse(TENANT, conversationId, content);
  const expected = planChatReply({ seed: 0, messages: history, maxTokens: MAX_TOKENS }).text;
  if (turn.text !== expected) {
    throw new Error(
      `${conversationId} on ${turn.shardId} replied ${JSON.stringify(turn.text)}, expected ${JSON.stringify(expected)} for ${history.length} messages`,
    );
  }
  history.push({ role: 'assistant', content: turn.text });
  return turn;
}

async function converse(tenantId: string, conversationId: string, content: string): Promise<Turn> {
  let text = '';
  let shardId = '';
  let placementReason = '';
  let failovers = -1;
  const stream = chatClient.converse(
    chat.ConverseRequest.fromPartial({
      tenantId,
      conversationId,
      messages: [{ role: common.Role.ROLE_USER, content }],
      sampling: { maxTokens: MAX_TOKENS },
      // Generous: a burst of first turns must not spill off the shard they are pinned to.
      ttftBudgetMs: 60_000,
    }),
  );
  for await (const response of stream) {
    const event = response.event;
    switch (event?.$case) {
      case 'started':
        shardId = event.value.shardId;
        placementReason = event.value.placementReason;
        break;
      case 'delta':
        text += event.value.text;
        break;
      case 'completed':
        failovers = event.value.failovers;
        shardId = event.value.shardId;
        break;
      case undefined:
        break;
    }
  }
  return { text, shardId, placementReason, failovers };
}

/** Pins a conversation the router has not placed yet, as the registry's first assignment. */
async function pin(tenantId: string, conversationId: string, shardId: string): Promise<void> {
  const outcome = await registry.compareAndSetAssignment({
    conversationId,
    tenantId,
    shardId,
    expectedVersion: 0,
    reason: 'new',
  });
  if (!outcome.applied) throw new Error(`could not pin ${conversationId} to ${shardId}`);
}

/**
 * The registry knows a new shard before the router's watch does: a throwaway conversation pinned
 * there shows whether the router places on it yet.
 */
async function routerPlacesOn(shardId: string): Promise<boolean> {
  const probe = `e2e-probe-${randomUUID()}`;
  await chatClient.startConversation({
    tenantId: 'tenant-e2e-probe',
    model: MODEL,
    conversationId: probe,
  });
  await pin('tenant-e2e-probe', probe, shardId);
  return (await converse('tenant-e2e-probe', probe, 'ping')).shardId === shardId;
}

async function listOnShard(shardId: string): Promise<shard.Assignment[]> {
  const out: shard.Assignment[] = [];
  let pageToken = '';
  for (let page = 0; page < 100; page++) {
    const listed = await registry.listAssignments({ shardId, pageSize: 1_000, pageToken });
    out.push(...listed.assignments.filter((a) => histories.has(a.conversationId)));
    if (listed.nextPageToken === '') break;
    pageToken = listed.nextPageToken;
  }
  return out;
}

async function shardStates(): Promise<Map<string, string>> {
  const { shards } = await registry.listShards({ pool: '', includeRemoved: true });
  return new Map(shards.map((s) => [s.shardId, shard.shardStateToJSON(s.state)]));
}

function liveShards(states: Map<string, string>): string[] {
  return [...states].flatMap(([id, state]) => (state === 'SHARD_STATE_READY' ? [id] : []));
}

/**
 * Runs `work` over `items`, CONCURRENCY at a time; results in item order. After a failure no new
 * item starts, and the ones in flight finish before it is thrown (nothing leaks into the next test).
 */
async function forEachBounded<T, R>(
  items: readonly T[],
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: CONCURRENCY }, worker));
  const rejected = settled.find((outcome) => outcome.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
  return results;
}
