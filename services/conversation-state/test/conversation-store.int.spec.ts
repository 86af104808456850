import { randomUUID } from 'node:crypto';
import { common, conversation } from '@spillway/contracts';
import { createGrpcClient } from '@spillway/grpc';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { countTokens } from '../src/adapters/tokens/simulator-token-estimator.js';
import { harnessForSuite } from './support/harness.js';
import {
  completeRequest,
  refusal,
  startRequest,
  startedEvent,
  storedEvent,
  userEvent,
  userRequest,
  startedStream,
} from './support/requests.js';

const TENANT = 'tenant-a';
const OTHER = 'tenant-b';

describe('ConversationStore over gRPC', () => {
  const harness = harnessForSuite();

  async function started(
    tenantId = TENANT,
    systemPrompt = 'You are a helpful assistant.',
  ): Promise<string> {
    const response = await harness().client.startConversation(
      startRequest(tenantId, { systemPrompt }),
    );
    return response.conversationId;
  }

  describe('a turn', () => {
    it('starts, appends a user turn, completes it, and serves the context', async () => {
      const start = await harness().client.startConversation(
        startRequest(TENANT, { conversationId: '', labels: { app: 'chat' } }),
      );
      expect(start.conversationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(start.result).toMatchObject({ version: 1, duplicate: false });
      const { conversationId } = start;
      const turn = await harness().client.appendUserMessage(
        userRequest(TENANT, conversationId, 'What is 2+2?'),
      );
      expect(turn.result).toMatchObject({ version: 2, duplicate: false });
      const done = await harness().client.completeAssistantMessage(
        completeRequest(TENANT, conversationId, turn.turnId, 'Four.'),
      );
      expect(done.result?.version).toBe(3);
      await harness().client.pinConversation({
        tenantId: TENANT,
        conversationId,
        shardId: 'shard-1',
        reason: 'new',
        metadata: undefined,
      });

      const context = await harness().client.getContext({
        tenantId: TENANT,
        conversationId,
        tokenBudget: 4_096,
      });
      expect(context.messages.map((message) => message.content)).toEqual([
        'You are a helpful assistant.',
        'What is 2+2?',
        'Four.',
      ]);
      expect(context).toMatchObject({
        version: 4,
        model: 'llama-3-8b',
        closed: false,
        shardId: 'shard-1',
        pendingTurnId: '',
        droppedMessages: 0,
      });
      const view = await harness().client.getConversation({ tenantId: TENANT, conversationId });
      expect(view.conversation?.labels).toEqual({ app: 'chat' });
      expect(view.conversation?.turns).toEqual([
        {
          turnId: turn.turnId,
          status: conversation.TurnStatus.TURN_STATUS_COMPLETED,
          version: 2,
          idempotencyKey: '',
          shardId: 'shard-1',
          reply: 'Four.',
          finishReason: common.FinishReason.FINISH_REASON_STOP,
          errorCode: '',
        },
      ]);
    });

    it('refuses a second completion of one turn, and any message after close', async () => {
      const conversationId = await started();
      const turn = await harness().client.appendUserMessage(
        userRequest(TENANT, conversationId, 'hello'),
      );
      await harness().client.completeAssistantMessage(
        completeRequest(TENANT, conversationId, turn.turnId, 'hi'),
      );
      const again = await refusal(
        harness().client.completeAssistantMessage(
          completeRequest(TENANT, conversationId, turn.turnId, 'hi again'),
        ),
      );
      expect(again.code).toBe('TURN.ALREADY_COMPLETED');
      expect(again.details.grpcStatus).toBe('FAILED_PRECONDITION');
      // The identical completion is a retry, not a second completion.
      const retry = await harness().client.completeAssistantMessage(
        completeRequest(TENANT, conversationId, turn.turnId, 'hi'),
      );
      expect(retry.result).toMatchObject({ version: 3, duplicate: true });

      await harness().client.closeConversation({
        tenantId: TENANT,
        conversationId,
        reason: 'done',
        metadata: undefined,
      });
      const closed = await refusal(
        harness().client.appendUserMessage(userRequest(TENANT, conversationId, 'anyone?')),
      );
      expect(closed.code).toBe('CONVERSATION.CLOSED');
    });

    it('moves a conversation between shards once per migration id', async () => {
      const conversationId = await started();
      await harness().client.pinConversation({
        tenantId: TENANT,
        conversationId,
        shardId: 'shard-1',
        reason: 'new',
        metadata: undefined,
      });
      const migration = {
        tenantId: TENANT,
        conversationId,
        migrationId: 'm-1',
        fromShardId: 'shard-1',
        reason: 'shard-failed',
        metadata: undefined,
      };
      await harness().client.startMigration(migration);
      const first = await harness().client.completeMigration({
        ...migration,
        toShardId: 'shard-2',
      });
      const second = await harness().client.completeMigration({
        ...migration,
        toShardId: 'shard-2',
      });
      expect(first.result?.duplicate).toBe(false);
      expect(second.result).toEqual({ ...first.result, duplicate: true });
      const { events } = await harness().client.readStream({
        tenantId: TENANT,
        conversationId,
        fromVersion: 1,
        maxCount: 0,
      });
      expect(events.filter((event) => event.type === 'ConversationMigrated')).toHaveLength(1);
      const context = await harness().client.getContext({
        tenantId: TENANT,
        conversationId,
        tokenBudget: 100,
      });
      expect(context.shardId).toBe('shard-2');
    });
  });

  describe('idempotency', () => {
    it('returns the original turn for a retry with the same key, also when retries race', async () => {
      const conversationId = await started();
      const request = userRequest(TENANT, conversationId, 'book a table', {
        idempotencyKey: 'req-42',
      });
      const first = await harness().client.appendUserMessage(request);
      const retries = await Promise.all(
        [1, 2, 3].map(() => harness().client.appendUserMessage({ ...request, turnId: '' })),
      );
      for (const retry of retries) {
        expect(retry.turnId).toBe(first.turnId);
        expect(retry.result).toEqual({ ...first.result, duplicate: true });
      }
      const { events } = await harness().client.readStream({
        tenantId: TENANT,
        conversationId,
        fromVersion: 1,
        maxCount: 0,
      });
      expect(events.map((event) => event.type)).toEqual([
        'ConversationStarted',
        'UserMessageAppended',
      ]);
    });

    it('hands a retry of a completed turn its recorded reply, so it need not be generated again', async () => {
      const conversationId = await started();
      const request = userRequest(TENANT, conversationId, 'what time is it?', {
        idempotencyKey: 'req-7',
      });
      const first = await harness().client.appendUserMessage(request);
      expect(first.turn?.status).toBe(conversation.TurnStatus.TURN_STATUS_PENDING);
      await harness().client.completeAssistantMessage(
        completeRequest(TENANT, conversationId, first.turnId, 'Noon.'),
      );
      const retry = await harness().client.appendUserMessage(request);
      expect(retry.result?.duplicate).toBe(true);
      expect(retry.turn).toMatchObject({
        turnId: first.turnId,
        status: conversation.TurnStatus.TURN_STATUS_COMPLETED,
        reply: 'Noon.',
        shardId: 'shard-1',
      });
    });

    it('returns the original raw append for a retry with the same metadata key', async () => {
      const conversationId = await startedStream(harness().client, TENANT);
      const append = {
        tenantId: TENANT,
        conversationId,
        expectedVersion: 1,
        events: [userEvent('t1', 'hi', 'raw-1')],
      };
      append.events[0]!.metadata!.idempotencyKey = 'raw-1';
      const first = await harness().client.appendEvents(append);
      const retry = await harness().client.appendEvents(append);
      expect(retry).toEqual({ ...first, duplicate: true });
    });
  });

  describe('tenancy', () => {
    it('answers another tenant exactly as if the conversation did not exist', async () => {
      const conversationId = await started(TENANT);
      const missing = randomUUID();
      const calls = (id: string) => [
        harness().client.readStream({
          tenantId: OTHER,
          conversationId: id,
          fromVersion: 1,
          maxCount: 0,
        }),
        harness().client.getContext({ tenantId: OTHER, conversationId: id, tokenBudget: 100 }),
        harness().client.getConversation({ tenantId: OTHER, conversationId: id }),
        harness().client.appendUserMessage(userRequest(OTHER, id, 'let me in')),
        harness().client.appendEvents({
          tenantId: OTHER,
          conversationId: id,
          expectedVersion: 1,
          events: [userEvent('t1', 'x')],
        }),
        harness().client.closeConversation({
          tenantId: OTHER,
          conversationId: id,
          reason: '',
          metadata: undefined,
        }),
      ];
      const foreign = await Promise.all(calls(conversationId).map(refusal));
      const absent = await Promise.all(calls(missing).map(refusal));
      foreign.forEach((error, index) => {
        expect(error.code).toBe('CONVERSATION.NOT_FOUND');
        expect(error.details.grpcStatus).toBe('NOT_FOUND');
        expect(error.message.replace(conversationId, 'ID')).toBe(
          absent[index]!.message.replace(missing, 'ID'),
        );
        expect(error.details).toEqual(absent[index]!.details);
      });
      const { currentVersion } = await harness().client.readStream({
        tenantId: TENANT,
        conversationId,
        fromVersion: 1,
        maxCount: 0,
      });
      expect(currentVersion).toBe(1);
    });

    it('lists only the tenant own conversations, page by page', async () => {
      const tenant = `tenant-list-${randomUUID()}`;
      const mine = (await Promise.all(Array.from({ length: 5 }, () => started(tenant)))).sort();
      await started(`${tenant}-other`);
      const first = await harness().client.listConversations({
        tenantId: tenant,
        pageSize: 3,
        pageToken: '',
      });
      const second = await harness().client.listConversations({
        tenantId: tenant,
        pageSize: 3,
        pageToken: first.nextPageToken,
      });
      expect(second.nextPageToken).toBe('');
      const listed = [...first.conversations, ...second.conversations];
      expect(listed.map((summary) => summary.conversationId)).toEqual(mine);
      expect(
        listed.every(
          (summary) =>
            summary.tenantId === tenant && summary.version === 1 && summary.model === 'llama-3-8b',
        ),
      ).toBe(true);
    });
  });

  describe('context under a token budget', () => {
    it('keeps the system prompt, drops the oldest turns first and records the cut', async () => {
      const conversationId = await started(TENANT, 'You are terse.');
      for (let index = 1; index <= 20; index++) {
        const turn = await harness().client.appendUserMessage(
          userRequest(TENANT, conversationId, `Question ${index}: tell me about topic ${index}.`),
        );
        await harness().client.completeAssistantMessage(
          completeRequest(
            TENANT,
            conversationId,
            turn.turnId,
            `Answer ${index}: topic ${index} is fine.`,
          ),
        );
      }
      await harness().client.appendUserMessage(
        userRequest(TENANT, conversationId, 'Last question?'),
      );
      const full = await harness().client.getContext({
        tenantId: TENANT,
        conversationId,
        tokenBudget: 100_000,
      });
      expect(full.messages).toHaveLength(42);

      const budget = 120;
      const cut = await harness().client.getContext({
        tenantId: TENANT,
        conversationId,
        tokenBudget: budget,
      });
      const contents = cut.messages.map((message) => message.content);
      expect(contents[0]).toBe('You are terse.');
      expect(contents.at(-1)).toBe('Last question?');
      expect(cut.estimatedTokens).toBeLessThanOrEqual(budget);
      expect(cut.withinBudget).toBe(true);
      expect(cut.droppedMessages).toBe(42 - cut.messages.length);
      expect(cut.droppedTurns * 2).toBe(cut.droppedMessages);
      // The kept turns are the newest ones, in order.
      expect(contents.slice(1)).toEqual(
        full.messages.slice(1 + cut.droppedMessages).map((message) => message.content),
      );
      // The estimate is gpu-sim's prompt count for exactly these messages.
      const gpuSimCount =
        1 + cut.messages.reduce((sum, message) => sum + 5 + countTokens(message.content), 0) + 4;
      expect(cut.estimatedTokens).toBe(gpuSimCount);
      // Deterministic.
      expect(
        await harness().client.getContext({
          tenantId: TENANT,
          conversationId,
          tokenBudget: budget,
        }),
      ).toEqual(cut);
    });
  });

  describe('append with the context', () => {
    it('answers an appended message with the context GetContext would give right after it', async () => {
      const conversationId = await started(TENANT, 'You are terse.');
      const first = await harness().client.appendUserMessage(
        userRequest(TENANT, conversationId, 'Question one?'),
      );
      expect(first.context).toBeUndefined();
      await harness().client.completeAssistantMessage(
        completeRequest(TENANT, conversationId, first.turnId, 'Answer one.'),
      );
      const second = await harness().client.appendUserMessage(
        userRequest(TENANT, conversationId, 'Question two?', { contextTokenBudget: 4_096 }),
      );
      const read = await harness().client.getContext({
        tenantId: TENANT,
        conversationId,
        tokenBudget: 4_096,
      });
      expect(second.context).toEqual(read);
      expect(second.context).toMatchObject({ version: 4, pendingTurnId: second.turnId });
      expect(second.context?.messages.map((message) => message.content)).toEqual([
        'You are terse.',
        'Question one?',
        'Answer one.',
        'Question two?',
      ]);
    });

    it('refuses an absurd budget before appending anything', async () => {
      const conversationId = await started();
      const error = await refusal(
        harness().client.appendUserMessage(
          userRequest(TENANT, conversationId, 'hello', { contextTokenBudget: 4_000_000_000 }),
        ),
      );
      expect(error.code).toBe('REQUEST.INVALID');
      expect(error.details.field).toBe('context_token_budget');
      const context = await harness().client.getContext({
        tenantId: TENANT,
        conversationId,
        tokenBudget: 4_096,
      });
      expect(context.version).toBe(1);
      expect(context.pendingTurnId).toBe('');
    });
  });

  describe('bad input is INVALID_ARGUMENT naming the field', () => {
    async function expectInvalid(call: Promise<unknown>, field: string): Promise<void> {
      const error = await refusal(call);
      expect(error.code).toBe('REQUEST.INVALID');
      expect(error.details.grpcStatus).toBe('INVALID_ARGUMENT');
      expect(error.details.field).toBe(field);
      expect(error.message).toContain(field);
    }

    it('rejects empty ids', async () => {
      await expectInvalid(
        harness().client.getContext({ tenantId: '', conversationId: 'c', tokenBudget: 10 }),
        'tenant_id',
      );
      await expectInvalid(
        harness().client.readStream({
          tenantId: TENANT,
          conversationId: ' ',
          fromVersion: 0,
          maxCount: 0,
        }),
        'conversation_id',
      );
      await expectInvalid(
        harness().client.appendUserMessage(userRequest(TENANT, '', 'x')),
        'conversation_id',
      );
      await expectInvalid(
        harness().client.startConversation(startRequest(TENANT, { model: '' })),
        'model',
      );
      await expectInvalid(
        harness().client.completeAssistantMessage(completeRequest(TENANT, 'c', '', 'x')),
        'turn_id',
      );
    });

    it('rejects empty or blank messages', async () => {
      const conversationId = await started();
      await expectInvalid(
        harness().client.appendUserMessage({
          ...userRequest(TENANT, conversationId, 'x'),
          messages: [],
        }),
        'messages',
      );
      await expectInvalid(
        harness().client.appendUserMessage(userRequest(TENANT, conversationId, '')),
        'messages[0].content',
      );
    });

    it('rejects unknown event types and payloads that do not match their type', async () => {
      const conversationId = randomUUID();
      const unknown = { ...startedEvent(), type: 'ConversationExploded' };
      await expectInvalid(
        harness().client.appendEvents({
          tenantId: TENANT,
          conversationId,
          expectedVersion: 0,
          events: [unknown],
        }),
        'events[0].type',
      );
      const mismatched = { ...startedEvent(), type: 'ConversationClosed' };
      await expectInvalid(
        harness().client.appendEvents({
          tenantId: TENANT,
          conversationId,
          expectedVersion: 0,
          events: [mismatched],
        }),
        'events[0].payload',
      );
      const garbage = { ...startedEvent(), payload: Buffer.from([0xff, 0xff, 0xff]) };
      await expectInvalid(
        harness().client.appendEvents({
          tenantId: TENANT,
          conversationId,
          expectedVersion: 0,
          events: [garbage],
        }),
        'events[0].payload',
      );
      await expectInvalid(
        harness().client.appendEvents({
          tenantId: TENANT,
          conversationId,
          expectedVersion: 0,
          events: [],
        }),
        'events',
      );
      const badId = { ...startedEvent(), eventId: 'not-a-uuid' };
      await expectInvalid(
        harness().client.appendEvents({
          tenantId: TENANT,
          conversationId,
          expectedVersion: 0,
          events: [badId],
        }),
        'events[0].event_id',
      );
    });

    it('rejects raw events that break the conversation rules, like a message before the start', async () => {
      const conversationId = randomUUID();
      const error = await refusal(
        harness().client.appendEvents({
          tenantId: TENANT,
          conversationId,
          expectedVersion: 0,
          events: [userEvent('t1', 'hi')],
        }),
      );
      expect(error.code).toBe('CONVERSATION.NOT_FOUND');
      const closed = storedEvent('ConversationClosed', { $case: 'closed', value: { reason: 'x' } });
      await harness().client.appendEvents({
        tenantId: TENANT,
        conversationId,
        expectedVersion: 0,
        events: [startedEvent(), closed],
      });
      const afterClose = await refusal(
        harness().client.appendEvents({
          tenantId: TENANT,
          conversationId,
          expectedVersion: 2,
          events: [userEvent('t1', 'hi')],
        }),
      );
      expect(afterClose.code).toBe('CONVERSATION.CLOSED');
    });

    it('rejects a zero budget and a negative one (sent as a signed varint, as a careless client would)', async () => {
      const conversationId = await started();
      await expectInvalid(
        harness().client.getContext({ tenantId: TENANT, conversationId, tokenBudget: 0 }),
        'token_budget',
      );
      // The generated client refuses to encode -1 as uint32; a client in another language may send it
      // as int32, which arrives as 2^32 - 1.
      const signedDefinition = {
        ...conversation.ConversationStoreDefinition,
        methods: {
          getContext: {
            ...conversation.ConversationStoreDefinition.methods.getContext,
            requestType: {
              ...conversation.GetContextRequest,
              encode: (request: conversation.GetContextRequest, writer = new BinaryWriter()) =>
                writer
                  .uint32(10)
                  .string(request.tenantId)
                  .uint32(18)
                  .string(request.conversationId)
                  .uint32(24)
                  .int32(request.tokenBudget),
            },
          },
        },
      } as const;
      const signedClient = createGrpcClient(
        signedDefinition,
        `127.0.0.1:${harness().service.port}`,
        {
          defaultDeadlineMs: 5_000,
        },
      );
      try {
        await expectInvalid(
          signedClient.getContext({ tenantId: TENANT, conversationId, tokenBudget: -1 }),
          'token_budget',
        );
      } finally {
        signedClient.close();
      }
    });

    it('rejects a page token it did not issue and an oversized page', async () => {
      await expectInvalid(
        harness().client.listConversations({ tenantId: TENANT, pageSize: 10, pageToken: 'bogus' }),
        'page_token',
      );
      await expectInvalid(
        harness().client.listConversations({ tenantId: TENANT, pageSize: 10_000, pageToken: '' }),
        'page_size',
      );
    });
  });
});
