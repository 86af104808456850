import { InferenceClient } from '@huggingface/inference';
import OpenAI from 'openai';
import { countTokens } from '../src/domain/tokenizer.js';
import { countChatPromptTokens, planChatReply, type ChatTurn } from '../src/index.js';
import type { GpuSimServer } from '../src/gpu-sim.app.js';
import { startTestServer } from './gpu-sim.fixture.js';

// The official clients, unchanged, against gpu-sim: what a customer-support chatbot tutorial does.

const SERVER_SEED = 4242;
const supportChat = [
  {
    role: 'system' as const,
    content: 'You are a friendly customer-support assistant for Acme Store.',
  },
  { role: 'user' as const, content: 'Hi! My order #1042 has not arrived yet. What can I do?' },
] satisfies ChatTurn[];

let server: GpuSimServer;
let openai: OpenAI;

beforeAll(async () => {
  server = await startTestServer({ timeScale: 0.01, seed: SERVER_SEED });
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x' });
});

afterAll(async () => {
  await server.shutdown(1000);
});

describe('openai SDK', () => {
  it('lists the served model', async () => {
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['meta-llama/Llama-3.1-8B-Instruct']);
  });

  it('chats without streaming: the deterministic reply and consistent usage', async () => {
    const completion = await openai.chat.completions.create({
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      messages: supportChat,
      seed: 7,
      temperature: 0.7,
    });
    const expected = planChatReply({ seed: 7, messages: supportChat });
    const choice = completion.choices[0]!;
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content).toBe(expected.text);
    expect(choice.finish_reason).toBe('stop');
    expect(completion.usage).toEqual(
      expect.objectContaining({
        prompt_tokens: countChatPromptTokens(supportChat),
        completion_tokens: countTokens(expected.text),
        total_tokens: countChatPromptTokens(supportChat) + countTokens(expected.text),
      }),
    );
  });

  it('streams: chunks concatenate to the same text, usage arrives in a final chunk', async () => {
    const stream = await openai.chat.completions.create({
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      messages: supportChat,
      seed: 7,
      max_completion_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let contentChunks = 0;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        text += choice.delta.content;
        contentChunks++;
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    const expected = planChatReply({ seed: 7, messages: supportChat, maxTokens: 12 });
    expect(expected.tokens.length).toBe(12); // the natural reply is longer
    expect(text).toBe(expected.text);
    expect(contentChunks).toBe(12);
    expect(finish).toBe('length');
    expect(usage).toEqual(
      expect.objectContaining({
        prompt_tokens: countChatPromptTokens(supportChat),
        completion_tokens: 12,
      }),
    );
  });

  it('uses the server seed when the request has none, and honours stop', async () => {
    const full = planChatReply({ seed: SERVER_SEED, messages: supportChat });
    const stopWord = full.tokens[6]!.trim();
    const completion = await openai.chat.completions.create({
      model: 'm',
      messages: supportChat,
      stop: [stopWord],
    });
    expect(completion.choices[0]!.message.content).toBe(
      full.text.slice(0, full.text.indexOf(stopWord)),
    );
    expect(completion.choices[0]!.finish_reason).toBe('stop');
  });

  it('continues a partial assistant message with exactly the rest of the reply', async () => {
    const full = planChatReply({ seed: 9, messages: supportChat });
    const partial = full.tokens.slice(0, 12).join('');
    const rest = await openai.chat.completions.create({
      model: 'm',
      seed: 9,
      messages: [...supportChat, { role: 'assistant' as const, content: partial }],
    });
    expect(partial + rest.choices[0]!.message.content).toBe(full.text);
  });

  it('serves legacy completions', async () => {
    const completion = await openai.completions.create({
      model: 'm',
      prompt: 'Dear customer,',
      max_tokens: 8,
      seed: 1,
    });
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBe(8);
    expect(completion.choices[0]!.finish_reason).toBe('length');
  });
});

describe('@huggingface/inference InferenceClient', () => {
  it('chatCompletion and chatCompletionStream against a local endpoint', async () => {
    const client = new InferenceClient(undefined, { endpointUrl: server.url });
    const messages = [
      { role: 'system', content: 'You are a helpful support agent. Answer briefly.' },
      { role: 'user', content: 'How do I reset my password?' },
    ];
    const expected = planChatReply({
      seed: SERVER_SEED,
      messages: messages as ChatTurn[],
      maxTokens: 64,
    });

    const response = await client.chatCompletion({ messages, max_tokens: 64 });
    expect(response.choices[0]!.message.content).toBe(expected.text);

    let out = '';
    for await (const chunk of client.chatCompletionStream({ messages, max_tokens: 64 })) {
      if (chunk.choices && chunk.choices.length > 0) out += chunk.choices[0]!.delta.content ?? '';
    }
    expect(out).toBe(expected.text);
  });
});
