import { aShard } from '../../domain/index.js';
import type {
  AppendedTurn,
  CompleteAssistantMessage,
  ConversationMessage,
  ConversationPort,
  FailAssistantMessage,
} from '../conversation.port.js';
import { SILENT_LOG } from '../log.port.js';
import { NO_METRICS } from '../router-metrics.port.js';
import type { TurnUsage } from '../turn-usage.port.js';
import { Converse } from './converse.use-case.js';
import type { ConverseCommand, ConverseEvent } from './converse.types.js';
import type { PlacedTurn, TurnRunEvent, TurnSpec } from './turn-runner.js';

/** Records what the use case asks of the store; answers from a script. */
class FakeConversations implements ConversationPort {
  readonly completed: CompleteAssistantMessage[] = [];
  readonly failed: FailAssistantMessage[] = [];
  appended: AppendedTurn = { kind: 'opened', turnId: 'turn-1' };
  history: ConversationMessage[] = [{ role: 'system', content: 'be brief' }];

  start = async () => {
    throw new Error('not used');
  };
  contextReads = 0;
  appendUserMessage = async () => this.appended;
  context = async () => {
    this.contextReads++;
    return {
      model: 'llama',
      messages: [...this.history, { role: 'user' as const, content: 'hello' }],
      version: 3,
    };
  };
  completeAssistantMessage = async (command: CompleteAssistantMessage) =>
    void this.completed.push(command);
  failAssistantMessage = async (command: FailAssistantMessage) => void this.failed.push(command);
  get = async () => {
    throw new Error('not used');
  };
  list = async () => {
    throw new Error('not used');
  };
  close = async () => {
    throw new Error('not used');
  };
}

const placed = (shadowPool?: string) =>
  ({
    kind: 'placed',
    decision: { shard: aShard({ id: 'shard-1' }) },
    shadowPool,
    pinned: true,
    assignment: undefined,
  }) as unknown as PlacedTurn;

function aConverse(script: (spec: TurnSpec) => AsyncGenerator<TurnRunEvent>) {
  const conversations = new FakeConversations();
  /** What happened, in order: moves before a turn, and turns run. */
  const journal: string[] = [];
  const usage: TurnUsage[] = [];
  const specs: TurnSpec[] = [];
  const shadows: { pool: string; settled: (string | undefined)[] }[] = [];
  const converse = new Converse({
    conversations,
    encoder: {
      encode: (messages) => ({ promptTokens: messages.length * 10, blocks: [1, 2] }),
      countTextTokens: () => 1,
    },
    runner: {
      run: (spec) => {
        specs.push(spec);
        journal.push(`run ${spec.conversationId}`);
        return script(spec);
      },
    },
    shadows: {
      launch: (_spec, pool) => {
        const record = { pool, settled: [] as (string | undefined)[] };
        shadows.push(record);
        return { settle: (text) => void record.settled.push(text) };
      },
    },
    usage: { record: (record) => void usage.push(record) },
    clock: { nowMs: () => 1_000 },
    ids: { next: () => 'generated' },
    metrics: NO_METRICS,
    log: SILENT_LOG,
    migrations: {
      beforeTurn: async (conversationId) => {
        journal.push(`move-if-gone ${conversationId}`);
        return undefined;
      },
    },
  });
  return { converse, conversations, usage, specs, shadows, journal };
}

async function* answers(shadowPool?: string): AsyncGenerator<TurnRunEvent> {
  yield { kind: 'placed', placement: placed(shadowPool) };
  yield { kind: 'started', shardId: 'shard-1', reason: 'affinity' };
  yield { kind: 'delta', text: 'Hi', index: 0 };
  yield {
    kind: 'finished',
    result: {
      text: 'Hi',
      shardId: 'shard-1',
      finishReason: 'stop',
      usage: { promptTokens: 20, completionTokens: 1, totalTokens: 21, cachedPromptTokens: 0 },
      failovers: 0,
      spilled: false,
      firstTokenAtMs: 1_000,
    },
  };
}

const command: ConverseCommand = {
  tenantId: 'tenant-1',
  conversationId: 'c-1',
  messages: [{ role: 'user', content: 'hello' }],
  sampling: {},
  priority: 'standard',
  idempotencyKey: 'key-1',
  ttftBudgetMs: 0,
  stateless: false,
  model: '',
};

async function collect(events: AsyncIterable<ConverseEvent>): Promise<ConverseEvent[]> {
  const out: ConverseEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe('converse', () => {
  it('runs a stored turn over the conversation’s context, then appends the reply and records usage', async () => {
    const { converse, conversations, usage, specs } = aConverse(() => answers());

    const events = await collect(converse.execute(command, new AbortController().signal));

    expect(specs[0]).toMatchObject({
      conversationId: 'c-1',
      turnId: 'turn-1',
      model: 'llama',
      pin: true,
      encoded: { promptTokens: 20, blocks: [1, 2] },
    });
    expect(specs[0]?.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(events.map((e) => e.kind)).toEqual(['started', 'delta', 'completed']);
    expect(events[2]).toMatchObject({ turnId: 'turn-1', shardId: 'shard-1', failovers: 0 });
    expect(conversations.completed).toEqual([
      expect.objectContaining({ turnId: 'turn-1', content: 'Hi', shardId: 'shard-1' }),
    ]);
    expect(usage).toEqual([
      expect.objectContaining({
        turnId: 'turn-1',
        conversationId: 'c-1',
        ttftMs: 0,
        spilled: false,
      }),
    ]);
  });

  it('moves a stored conversation off a gone shard before its turn is placed, never a stateless one', async () => {
    const stored = aConverse(() => answers());
    await collect(stored.converse.execute(command, new AbortController().signal));
    expect(stored.journal).toEqual(['move-if-gone c-1', 'run c-1']);

    const stateless = aConverse(() => answers());
    await collect(
      stateless.converse.execute(
        { ...command, stateless: true, model: 'llama' },
        new AbortController().signal,
      ),
    );
    expect(stateless.journal).toEqual(['run c-1']);
  });

  it('takes the context the append answered with, instead of reading it again', async () => {
    const { converse, conversations, specs } = aConverse(() => answers());
    conversations.appended = {
      kind: 'opened',
      turnId: 'turn-1',
      context: {
        model: 'llama',
        messages: [{ role: 'user', content: 'from the append' }],
        version: 2,
      },
    };
    await collect(converse.execute(command, new AbortController().signal));
    expect(conversations.contextReads).toBe(0);
    expect(specs[0]?.messages).toEqual([{ role: 'user', content: 'from the append' }]);

    // A store that does not answer with it is asked.
    const older = aConverse(() => answers());
    await collect(older.converse.execute(command, new AbortController().signal));
    expect(older.conversations.contextReads).toBe(1);
  });

  it('answers a retried turn from the stored reply without generating', async () => {
    const { converse, conversations, specs } = aConverse(() => answers());
    conversations.appended = {
      kind: 'already-answered',
      turnId: 'turn-0',
      reply: 'Earlier answer',
      shardId: 'shard-9',
      finishReason: 'stop',
    };

    const events = await collect(converse.execute(command, new AbortController().signal));

    expect(specs).toHaveLength(0);
    expect(events).toEqual([
      { kind: 'started', turnId: 'turn-0', shardId: 'shard-9', reason: 'replay' },
      { kind: 'delta', text: 'Earlier answer', index: 0 },
      expect.objectContaining({ kind: 'completed', turnId: 'turn-0', shardId: 'shard-9' }),
    ]);
  });

  it('records a failed turn and passes the error on', async () => {
    const { converse, conversations, usage } = aConverse(async function* () {
      yield { kind: 'placed', placement: placed() };
      throw new Error('boom');
    });

    await expect(collect(converse.execute(command, new AbortController().signal))).rejects.toThrow(
      'boom',
    );
    await Promise.resolve();
    expect(conversations.failed).toEqual([
      expect.objectContaining({ turnId: 'turn-1', shardId: 'shard-1', errorCode: 'FAILED' }),
    ]);
    expect(usage).toHaveLength(0);
  });

  it('keys a stateless turn without conversation id by its opening messages and pins nothing', async () => {
    const { converse, specs, conversations } = aConverse(() => answers());
    const stateless: ConverseCommand = {
      ...command,
      conversationId: '',
      stateless: true,
      model: 'llama',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'first' },
      ],
    };

    await collect(converse.execute(stateless, new AbortController().signal));
    await collect(
      converse.execute(
        {
          ...stateless,
          messages: [
            ...stateless.messages,
            { role: 'assistant', content: 'Hi' },
            { role: 'user', content: 'second' },
          ],
        },
        new AbortController().signal,
      ),
    );

    expect(specs[0]?.conversationId).toMatch(/^stateless-tenant-1-/);
    expect(specs[1]?.conversationId).toBe(specs[0]?.conversationId);
    expect(specs[0]?.pin).toBe(false);
    expect(conversations.completed).toHaveLength(0);
  });

  it('sends a sampled copy to the shadow pool and settles it with the reply it returned', async () => {
    const { converse, shadows } = aConverse(() => answers('shadow-pool'));

    await collect(converse.execute(command, new AbortController().signal));

    expect(shadows).toEqual([{ pool: 'shadow-pool', settled: ['Hi'] }]);
  });

  it('refuses a turn without messages or tenant', async () => {
    const { converse } = aConverse(() => answers());
    await expect(
      collect(converse.execute({ ...command, messages: [] }, new AbortController().signal)),
    ).rejects.toMatchObject({ code: 'REQUEST.INVALID', details: { field: 'messages' } });
    await expect(
      collect(converse.execute({ ...command, tenantId: '' }, new AbortController().signal)),
    ).rejects.toMatchObject({ code: 'REQUEST.INVALID', details: { field: 'tenant_id' } });
  });
});
