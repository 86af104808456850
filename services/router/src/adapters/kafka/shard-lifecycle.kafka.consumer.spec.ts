import { events } from '@spillway/contracts';
import type { DeliveredEvent, Messaging } from '@spillway/messaging';
import { SILENT_LOG } from '../../application/log.port.js';
import type { MigrateConversations } from '../../application/migrate-conversations/index.js';
import { ShardLifecycleKafkaConsumer } from './shard-lifecycle.kafka.consumer.js';

const FAILED_AT_MS = 10_000;

function aConsumer(registeredAtMs: number | undefined) {
  const migrated: string[] = [];
  const saga = {
    migrateShard: async (shardId: string) => {
      migrated.push(shardId);
      return { shardId, conversations: 0, outcomes: {}, remaining: 0 };
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

const failed = delivery({ $case: 'failed', value: events.ShardFailed.fromPartial({}) });
const draining = delivery({ $case: 'draining', value: events.ShardDraining.fromPartial({}) });

describe('shard lifecycle consumer', () => {
  it('migrates off a shard that failed and has not come back', async () => {
    const { consumer, migrated } = aConsumer(FAILED_AT_MS - 5_000);
    await consumer.handle(failed);
    expect(migrated).toEqual(['shard-c']);
  });

  it('migrates off a shard the registry no longer knows', async () => {
    const { consumer, migrated } = aConsumer(undefined);
    await consumer.handle(failed);
    expect(migrated).toEqual(['shard-c']);
  });

  it('leaves conversations where they are when the failure is older than the shard’s return', async () => {
    const { consumer, migrated } = aConsumer(FAILED_AT_MS + 1);
    await consumer.handle(failed);
    expect(migrated).toEqual([]);
  });

  it('always empties a draining shard', async () => {
    const { consumer, migrated } = aConsumer(FAILED_AT_MS + 1);
    await consumer.handle(draining);
    expect(migrated).toEqual(['shard-c']);
  });
});
