import { chat, common } from '@spillway/contracts';
import { DomainError } from '@spillway/errors';
import {
  type CallContext,
  createGrpcServer,
  type GrpcServer,
  ServerError,
  type ServiceImplementation,
  Status,
} from '@spillway/grpc';

type ConverseRequest = chat.ConverseRequest;
type ConverseResponse = chat.ConverseResponse;

export const MODEL = { default: 'spillway-test-1', small: 'spillway-small' } as const;
/** Words in a user message that make the fake behave differently. */
export const TRIGGER = { hold: '[hold]', failMidStream: '[fail]' } as const;

export interface ReceivedTurn {
  readonly request: ConverseRequest;
  readonly traceparent: string | undefined;
}

/**
 * A real gRPC ChatService on 127.0.0.1 standing in for the router: deterministic replies
 * ("Echo: <last user message>", one delta per word), tenant-scoped conversations, and knobs for
 * saturation (shedding by priority), held turns and mid-stream failures.
 */
export class FakeChatService {
  readonly turns: ReceivedTurn[] = [];
  /** Turns of priority below this are refused with ADMISSION.SHED and a retry hint. */
  shedBelow: common.Priority = common.Priority.PRIORITY_UNSPECIFIED;
  shedRetryAfterMs = 2_000;
  /** Refuse with a bare RESOURCE_EXHAUSTED status and no domain code (a non-Spillway proxy). */
  bareResourceExhausted = false;
  /** GetConversation calls answered so far. */
  conversationReads = 0;
  private readonly conversations = new Map<string, chat.Conversation>();
  private readonly held = new Set<() => void>();
  private nextId = 1;
  private server: GrpcServer | undefined;

  readonly implementation: ServiceImplementation<typeof chat.ChatServiceDefinition> = {
    startConversation: async (request) => {
      const conversationId = request.conversationId || `conv-${this.nextId++}`;
      const conversation: chat.Conversation = {
        conversationId,
        tenantId: request.tenantId,
        model: request.model,
        systemPrompt: request.systemPrompt,
        messages: [],
        shardId: 'shard-a',
        closed: false,
        createdAtMs: 1_700_000_000_000,
        version: 0,
        labels: request.labels,
      };
      this.conversations.set(key(request.tenantId, conversationId), conversation);
      return { conversation };
    },
    converse: (request, context) => this.converse(request, context),
    getConversation: async (request) => {
      this.conversationReads++;
      return { conversation: this.owned(request.tenantId, request.conversationId) };
    },
    listConversations: async (request) => {
      const mine = [...this.conversations.values()].filter((c) => c.tenantId === request.tenantId);
      const start = Number(request.pageToken || '0');
      const size = request.pageSize || 20;
      const page = mine.slice(start, start + size);
      return {
        conversations: page,
        nextPageToken: start + size < mine.length ? String(start + size) : '',
      };
    },
    closeConversation: async (request) => {
      const conversation = this.owned(request.tenantId, request.conversationId);
      conversation.closed = true;
      return { conversation };
    },
    listModels: async () => ({
      models: [
        {
          id: MODEL.default,
          ownedBy: 'spillway',
          createdAtMs: 1_700_000_000_000,
          contextWindowTokens: 8_192,
        },
        {
          id: MODEL.small,
          ownedBy: 'spillway',
          createdAtMs: 1_700_000_000_000,
          contextWindowTokens: 256,
        },
      ],
    }),
  };

  async start(): Promise<string> {
    this.server = createGrpcServer({
      serviceName: 'fake-router',
      services: [{ definition: chat.ChatServiceDefinition, implementation: this.implementation }],
      port: 0,
      errorLog: { error: () => undefined },
    });
    const port = await this.server.start();
    return `127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.releaseHeld();
    await this.server?.shutdown(1_000);
  }

  /** Turns currently waiting on a `[hold]` message. */
  get heldCount(): number {
    return this.held.size;
  }

  releaseHeld(): void {
    for (const release of this.held) release();
    this.held.clear();
  }

  turnsFor(tenantId: string): ReceivedTurn[] {
    return this.turns.filter((t) => t.request.tenantId === tenantId);
  }

  private async *converse(
    request: ConverseRequest,
    context: CallContext,
  ): AsyncGenerator<ConverseResponse> {
    this.turns.push({ request, traceparent: context.metadata.get('traceparent') });
    if (request.priority < this.shedBelow) {
      if (this.bareResourceExhausted)
        throw new ServerError(Status.RESOURCE_EXHAUSTED, 'queue full');
      throw new DomainError(
        'ADMISSION.SHED',
        `shedding priority ${common.priorityToJSON(request.priority)}`,
        {
          retryAfterSeconds: this.shedRetryAfterMs / 1000,
        },
      );
    }
    const stored = request.stateless
      ? undefined
      : this.owned(request.tenantId, request.conversationId);
    if (stored?.closed) throw new DomainError('CONVERSATION.CLOSED', 'closed');
    const history = [...(stored?.messages ?? []), ...request.messages];
    const lastUser =
      [...request.messages].reverse().find((m) => m.role === common.Role.ROLE_USER)?.content ?? '';
    const turnId = `turn-${this.nextId++}`;
    yield {
      event: { $case: 'started', value: { turnId, shardId: 'shard-a', placementReason: 'new' } },
    };

    if (lastUser.includes(TRIGGER.hold)) {
      await new Promise<void>((resolve) => {
        const release = (): void => resolve();
        this.held.add(release);
        context.signal.addEventListener('abort', () => {
          this.held.delete(release);
          resolve();
        });
      });
    }
    const words = `Echo: ${lastUser}`.split(/\s+/).filter(Boolean);
    const limit = request.sampling?.maxTokens;
    const emitted = limit !== undefined && limit < words.length ? words.slice(0, limit) : words;
    let index = 0;
    for (const word of emitted) {
      yield { event: { $case: 'delta', value: { text: index === 0 ? word : ` ${word}`, index } } };
      index += 1;
      if (lastUser.includes(TRIGGER.failMidStream) && index === 2)
        throw new DomainError('SHARD.UNAVAILABLE', 'shard-a died');
    }
    const promptTokens =
      history.reduce((sum, m) => sum + m.content.split(/\s+/).filter(Boolean).length, 0) +
      (stored?.systemPrompt ? 1 : 0);
    if (stored) {
      stored.messages.push(...request.messages, {
        role: common.Role.ROLE_ASSISTANT,
        content: emitted.join(' '),
        name: '',
      });
      stored.version += 1;
    }
    yield {
      event: {
        $case: 'completed',
        value: {
          turnId,
          finishReason:
            emitted.length < words.length
              ? common.FinishReason.FINISH_REASON_LENGTH
              : common.FinishReason.FINISH_REASON_STOP,
          usage: {
            promptTokens,
            completionTokens: emitted.length,
            totalTokens: promptTokens + emitted.length,
            cachedPromptTokens: 0,
          },
          failovers: 0,
          shardId: 'shard-a',
        },
      },
    };
  }

  private owned(tenantId: string, conversationId: string): chat.Conversation {
    const conversation = this.conversations.get(key(tenantId, conversationId));
    if (!conversation)
      throw new DomainError('CONVERSATION.NOT_FOUND', `no conversation ${conversationId}`);
    return conversation;
  }
}

const key = (tenantId: string, conversationId: string): string => `${tenantId}/${conversationId}`;
