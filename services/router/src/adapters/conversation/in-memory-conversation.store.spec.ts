import { InMemoryConversationStore } from './in-memory-conversation.store.js';

function aStore() {
  let id = 0;
  return new InMemoryConversationStore({ nowMs: () => 5 }, { next: () => `id-${++id}` });
}

const hello = [{ role: 'user' as const, content: 'hello' }];

async function answeredTurn(store: InMemoryConversationStore, turnId: string, key = '') {
  await store.appendUserMessage({
    tenantId: 't',
    conversationId: 'c',
    turnId,
    messages: [{ role: 'user', content: `question ${turnId}` }],
    idempotencyKey: key,
  });
  await store.completeAssistantMessage({
    tenantId: 't',
    conversationId: 'c',
    turnId,
    content: `answer ${turnId}`,
    shardId: 's-1',
    finishReason: 'stop',
    usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2, cachedPromptTokens: 0 },
    failovers: 0,
  });
}

describe('in-memory conversation store', () => {
  it('builds the next prompt from the system prompt, answered turns and the open one', async () => {
    const store = aStore();
    await store.start({
      tenantId: 't',
      conversationId: 'c',
      model: 'm',
      systemPrompt: 'be brief',
      labels: {},
    });
    await answeredTurn(store, 'turn-1');
    await store.appendUserMessage({
      tenantId: 't',
      conversationId: 'c',
      turnId: 'turn-2',
      messages: hello,
      idempotencyKey: '',
    });

    expect((await store.context('t', 'c')).messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'question turn-1' },
      { role: 'assistant', content: 'answer turn-1' },
      { role: 'user', content: 'hello' },
    ]);
    // The record shows answered turns only.
    expect((await store.get('t', 'c')).messages).toHaveLength(3);
  });

  it('answers a retried turn (same idempotency key) with the original reply', async () => {
    const store = aStore();
    await store.start({
      tenantId: 't',
      conversationId: 'c',
      model: 'm',
      systemPrompt: '',
      labels: {},
    });
    await answeredTurn(store, 'turn-1', 'key-1');

    const retried = await store.appendUserMessage({
      tenantId: 't',
      conversationId: 'c',
      turnId: 'turn-9',
      messages: hello,
      idempotencyKey: 'key-1',
    });

    expect(retried).toEqual({
      kind: 'already-answered',
      turnId: 'turn-1',
      reply: 'answer turn-1',
      shardId: 's-1',
      finishReason: 'stop',
    });
  });

  it('drops an unanswered turn that a newer one supersedes, and a failed turn', async () => {
    const store = aStore();
    await store.start({
      tenantId: 't',
      conversationId: 'c',
      model: 'm',
      systemPrompt: '',
      labels: {},
    });
    for (const turnId of ['turn-1', 'turn-2']) {
      await store.appendUserMessage({
        tenantId: 't',
        conversationId: 'c',
        turnId,
        messages: [{ role: 'user', content: turnId }],
        idempotencyKey: '',
      });
    }
    expect((await store.context('t', 'c')).messages).toEqual([{ role: 'user', content: 'turn-2' }]);

    await store.failAssistantMessage({
      tenantId: 't',
      conversationId: 'c',
      turnId: 'turn-2',
      shardId: 's-1',
      errorCode: 'FAILED',
      errorMessage: 'x',
    });
    expect((await store.context('t', 'c')).messages).toEqual([]);
  });

  it('hides conversations from other tenants and refuses turns to closed ones', async () => {
    const store = aStore();
    const started = await store.start({
      tenantId: 't',
      conversationId: '',
      model: 'm',
      systemPrompt: '',
      labels: {},
    });
    expect(started.conversationId).toBe('id-1');
    await expect(store.get('other', 'id-1')).rejects.toMatchObject({
      code: 'CONVERSATION.NOT_FOUND',
    });

    await store.close('t', 'id-1');
    await expect(
      store.appendUserMessage({
        tenantId: 't',
        conversationId: 'id-1',
        turnId: 'x',
        messages: hello,
        idempotencyKey: '',
      }),
    ).rejects.toMatchObject({ code: 'CONVERSATION.CLOSED' });
  });

  it('lists a tenant’s conversations page by page', async () => {
    const store = aStore();
    for (const id of ['a', 'b', 'c'])
      await store.start({
        tenantId: 't',
        conversationId: id,
        model: 'm',
        systemPrompt: '',
        labels: {},
      });
    await store.start({
      tenantId: 'u',
      conversationId: 'd',
      model: 'm',
      systemPrompt: '',
      labels: {},
    });

    const first = await store.list('t', 2, '');
    const second = await store.list('t', 2, first.nextPageToken);

    expect(first.conversations.map((c) => c.conversationId)).toEqual(['a', 'b']);
    expect(second.conversations.map((c) => c.conversationId)).toEqual(['c']);
    expect(second.nextPageToken).toBe('');
  });
});
