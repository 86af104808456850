import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { shard } from '@spillway/contracts';
import {
  startChildProcess,
  testInfrastructure,
  waitFor,
  type ChildProcessHandle,
} from '@spillway/testing';
import { startMigrationWorld, type MigrationWorld } from './support/migration-world.js';

// The saga alone in a child process (test/support/migration-saga.child.ts, compiled here), against
// real registry and conversation-state databases and real Kafka topics. It is SIGKILLed while it
// moves 1,000 conversations off a failed shard and started again: the uncommitted lifecycle event
// is redelivered and every conversation ends up moved, each with exactly one ConversationMigrated.
const supportDir = fileURLToPath(new URL('./support/', import.meta.url));
const childMain = `${supportDir}dist/test/support/migration-saga.child.js`;
const COUNT = 1_000;

let world: MigrationWorld;
let groupId: string;

beforeAll(async () => {
  execFileSync(process.execPath, [
    fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url)),
    '-p',
    `${supportDir}tsconfig.saga-child.json`,
  ]);
  // Each Prewarm takes a little while, so the kill lands mid-migration.
  world = await startMigrationWorld({ prewarmDelayMs: 20 });
  await world.registerShards(['shard-a', 'shard-b', 'shard-c']);
  groupId = world.topics.groupId('router-migration');
}, 300_000);

afterAll(async () => {
  await world?.close();
}, 60_000);

function startChild(name: string): Promise<ChildProcessHandle> {
  return startChildProcess({
    name,
    command: process.execPath,
    args: [childMain],
    env: {
      REGISTRY_ADDRESS: world.registryAddress,
      CONVERSATION_STORE_ADDRESS: world.storeAddress,
      KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
      SHARD_LIFECYCLE_TOPIC: world.topics.names.lifecycle,
      MIGRATION_GROUP_ID: groupId,
      MIGRATION_CONCURRENCY: '8',
    },
    readyWhen: (line) => line.includes('migration saga ready'),
    timeoutMs: 60_000,
  });
}

it('a saga killed mid-migration and started again moves every conversation exactly once', async () => {
  const ids = await world.seedConversations('shard-a', COUNT);
  const first = await startChild('saga-1');

  world.stopHeartbeats('shard-a');
  await waitFor(
    async () => (await world.shardState('shard-a')) === shard.ShardState.SHARD_STATE_FAILED,
    {
      description: 'the registry to declare shard-a failed',
      timeoutMs: 10_000,
    },
  );
  await waitFor(async () => (await world.listOnShard('shard-a')).length <= COUNT - 50, {
    description: 'the first saga to move some conversations',
    timeoutMs: 60_000,
    intervalMs: 20,
  });
  await first.kill();
  const leftByTheCrash = (await world.listOnShard('shard-a')).length;
  // Killed midway: some moved, some not.
  expect(leftByTheCrash).toBeGreaterThan(0);
  expect(leftByTheCrash).toBeLessThan(COUNT);

  const second = await startChild('saga-2');
  try {
    await waitFor(async () => (await world.listOnShard('shard-a')).length === 0, {
      description: 'the restarted saga to finish the migration',
      timeoutMs: 120_000,
      intervalMs: 250,
    });
  } finally {
    await second.stop();
  }

  const targets = new Set<string>();
  for (const conversationId of ids) {
    const assignment = await world.assignment(conversationId);
    expect(['shard-b', 'shard-c']).toContain(assignment?.shardId);
    targets.add(assignment?.shardId ?? '');
    expect(await world.migratedEvents(conversationId)).toHaveLength(1);
  }
  expect(targets.size).toBeGreaterThan(0);
}, 480_000);
