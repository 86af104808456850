import { fileURLToPath } from 'node:url';
import { conversation } from '@spillway/contracts';
import { createGrpcClient } from '@spillway/grpc';
import {
  createTestDatabase,
  createTestTopics,
  startChildProcess,
  testInfrastructure,
  type ChildProcessHandle,
} from '@spillway/testing';
import { silentLogger } from '@spillway/messaging';
import { startRequest, userRequest } from './support/requests.js';

// The built service as `npm start` runs it (build first: npm run build -w @spillway/conversation-state).
const serviceDir = fileURLToPath(new URL('..', import.meta.url));

describe('conversation-state as a process', () => {
  it('migrates a fresh database, prints its port, serves, and stops on SIGTERM', async () => {
    const database = await createTestDatabase();
    const topics = await createTestTopics({ conversations: 3 }, { logger: silentLogger });
    let service: ChildProcessHandle | undefined;
    try {
      service = await startChildProcess({
        name: 'conversation-state',
        command: process.execPath,
        args: ['--import', '@spillway/telemetry/register', 'dist/main.js'],
        cwd: serviceDir,
        env: {
          GRPC_PORT: '0',
          DATABASE_URL: database.url,
          KAFKA_BROKERS: testInfrastructure.kafkaBrokers.join(','),
          CONVERSATION_EVENTS_TOPIC: topics.names.conversations,
          CONVERSATION_EVENTS_PARTITIONS: '3',
        },
        readyWhen: (line) => /^conversation-state listening on 127\.0\.0\.1:\d+$/.test(line),
        timeoutMs: 30_000,
      });
      const line = service
        .output()
        .find((candidate) => candidate.startsWith('conversation-state listening on'));
      const port = Number(/:(\d+)$/.exec(line ?? '')?.[1]);
      const client = createGrpcClient(
        conversation.ConversationStoreDefinition,
        `127.0.0.1:${port}`,
        { defaultDeadlineMs: 10_000 },
      );
      try {
        const { conversationId } = await client.startConversation(startRequest('tenant-e2e'));
        const turn = await client.appendUserMessage(
          userRequest('tenant-e2e', conversationId, 'hello'),
        );
        expect(turn.result?.version).toBe(2);
      } finally {
        client.close();
      }
      const exit = await service.stop('SIGTERM', 10_000);
      expect(exit.code).toBe(0);
    } finally {
      await service?.kill().catch(() => undefined);
      await topics.cleanup();
      await database.cleanup();
    }
  });

  it('refuses a bad variable with a message naming it', async () => {
    const service = await startChildProcess({
      name: 'conversation-state',
      command: process.execPath,
      args: ['dist/main.js'],
      cwd: serviceDir,
      env: { SNAPSHOT_EVERY: 'often' },
      readyWhen: () => true,
    });
    const exit = await service.exited;
    expect(exit.code).toBe(78);
    expect(service.output().join('\n')).toMatch(/SNAPSHOT_EVERY has value "often"/);
  });
});
