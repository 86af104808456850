import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { shard } from '@spillway/contracts';
import { createGrpcClient } from '@spillway/grpc';
import {
  createTestDatabase,
  createTestTopics,
  type ChildProcessHandle,
  startChildProcess,
  type TestDatabase,
  type TestTopics,
  testInfrastructure,
} from '@spillway/testing';
import { aShard } from './support/shard-metadata.fixture.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const READY = /^shard-metadata listening on 127\.0\.0\.1:(\d+)$/;

function start(env: Record<string, string>): Promise<ChildProcessHandle> {
  if (!existsSync(`${serviceDir}dist/main.js`))
    throw new Error('build first: npm run build -w @spillway/shard-metadata');
  return startChildProcess({
    name: 'shard-metadata',
    command: process.execPath,
    args: ['--import', '@spillway/telemetry/register', 'dist/main.js'],
    cwd: serviceDir,
    env: {
      SPILLWAY_SERVICE: 'shard-metadata',
      GRPC_PORT: '0',
      KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
      ...env,
    },
    readyWhen: (line) => READY.test(line),
    timeoutMs: 30_000,
  });
}

function portOf(child: ChildProcessHandle): number {
  const line = child.output().find((candidate) => READY.test(candidate));
  return Number(READY.exec(line ?? '')?.[1]);
}

describe('shard-metadata (child process, built dist)', () => {
  let database: TestDatabase;
  let kafka: TestTopics<'lifecycle'>;

  beforeAll(async () => {
    database = await createTestDatabase();
    kafka = await createTestTopics({ lifecycle: 1 });
  });

  afterAll(async () => {
    await kafka?.cleanup();
    await database?.cleanup();
  });

  it('starts, serves, survives SIGKILL with its registry intact, and stops cleanly on SIGTERM', async () => {
    const env = { DATABASE_URL: database.url, SHARD_LIFECYCLE_TOPIC: kafka.names.lifecycle };
    const registration = aShard();
    const first = await start(env);
    try {
      const client = createGrpcClient(shard.ShardRegistryDefinition, `127.0.0.1:${portOf(first)}`, {
        defaultDeadlineMs: 10_000,
      });
      await client.registerShard({ shard: registration });
      client.close();
    } finally {
      await first.kill();
    }

    const second = await start(env);
    const client = createGrpcClient(shard.ShardRegistryDefinition, `127.0.0.1:${portOf(second)}`, {
      defaultDeadlineMs: 10_000,
    });
    try {
      const { shards } = await client.listShards({
        pool: registration.pool,
        includeRemoved: false,
      });
      expect(shards.map((s) => s.shardId)).toContain(registration.shardId);
      expect((await client.heartbeat({ shardId: registration.shardId, ready: true })).state).toBe(
        shard.ShardState.SHARD_STATE_READY,
      );
    } finally {
      client.close();
      expect(await second.stop('SIGTERM', 10_000)).toEqual({ code: 0, signal: null });
    }
  });

  it('refuses a bad configuration, naming the variable', async () => {
    await expect(
      start({ DATABASE_URL: database.url, HEARTBEAT_INTERVAL_MS: '500', FAILURE_AFTER_MS: '400' }),
    ).rejects.toThrow(/FAILURE_AFTER_MS has value "400": must exceed HEARTBEAT_INTERVAL_MS/);
  });
});
