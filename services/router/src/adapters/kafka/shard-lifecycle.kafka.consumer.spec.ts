import { events } from '@spillway/contracts';
import type { DeliveredEvent, HandlerContext, Messaging } from '@spillway/messaging';
import { SILENT_LOG } from '../../application/log.port.js';
import type {
  Heartbeat,
  MigrateConversations,
} from '../../application/migrate-conversations/index.js';
import { ShardLifecycleKafkaConsumer } from './shard-lifecycle.kafka.consumer.js';

const FAILED_AT_MS = 10_000;

function aConsumer(registeredAtMs: number | undefined) {
  const migrated: string[] = [];
  const saga = {
    // Heartbeats once, as a pass over one conversation does.
    migrateShard: async (shardId: string, _cause: unknown, heartbeat: Heartbeat) => {
      migrated.push(shardId);
      await heartbeat();
      return { shardId, conversations: 1, outcomes: {}, remaining: 0 };
    },
  } as unknown as MigrateConversations;
  const consumer = new ShardLifecycleKafkaConsumer(
    {} as Messaging,
    saga,
    {
      topic: {} as never,
      groupId: 'test',
      passes: 1,
      pauseBetweenPassesMs: 0,
    },
    SILENT_LOG,
    async () => registeredAtMs,
  );
  return { consumer, migrated };
}

function delivery(
  change: NonNullable<events.ShardLifecycleEvent['event']>,
): DeliveredEvent<events.ShardLifecycleEvent> {
  return {
    event: events.ShardLifecycleEvent.fromPartial({
      shardId: 'shard-c',
      pool: 'pool-1',
      occurredAtMs: FAILED_AT_MS,
      event: change,
    }),
    metadata: { id: 'event-1', headers: {} },
  } as unknown as DeliveredEvent<events.ShardLifecycleEvent>;
}

/** The subscriber's side of the handler: counts the group heartbeats asked for. */
function aHandlerContext(): HandlerContext & { heartbeats: number } {
  const context = {
    heartbeats: 0,
    heartbeat: async () => {
      context.heartbeats++;
    },
  };
  return context;
}

const failed = delivery({ $case: 'failed', value: events.ShardFailed.fromPartial({}) });
const draining = delivery({ $case: 'draining', value: events.ShardDraining.fromPartial({}) });

describe('shard lifecycle consumer', () => {
  it('migrates off a shard that failed and has not come back', async () => {
    const { consumer, migrated } = aConsumer(FAILED_AT_MS - 5_000);
    await consumer.handle(failed, aHandlerContext());
    expect(migrated).toEqual(['shard-c']);
  });

  it('hands the group heartbeat to the saga', async () => {
    const { consumer, migrated } = aConsumer(undefined);
    const context = aHandlerContext();
    await consumer.handle(draining, context);
    expect(migrated).toEqual(['shard-c']);
    expect(context.heartbeats).toBe(1);
  });

  it('migrates off a shard the registry no longer knows', async () => {
    const { consumer, migrated } = aConsumer(undefined);
    await consumer.handle(failed, aHandlerContext());
    expect(migrated).toEqual(['shard-c']);
  });

  it('leaves conversations where they are when the failure is older than the shard’s return', async () => {
    const { consumer, migrated } = aConsumer(FAILED_AT_MS + 1);
    await consumer.handle(failed, aHandlerContext());
    expect(migrated).toEqual([]);
  });

  it('always empties a draining shard', async () => {
    const { consumer, migrated } = aConsumer(FAILED_AT_MS + 1);
    await consumer.handle(draining, aHandlerContext());
    expect(migrated).toEqual(['shard-c']);
  });
});
