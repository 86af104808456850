import { DomainError } from '@spillway/errors';
import { readyRuntime, ScriptedEngine, wordTokenizer } from '../../../test/fakes/fake-ports.js';
import { EngineFailure } from '../engine.port.js';
import { GenerateTurn, type GenerateCommand, type TurnEvent } from './generate-turn.use-case.js';

const command = (overrides: Partial<GenerateCommand> = {}): GenerateCommand => ({
  requestId: 'req-1',
  conversationId: 'conv-1',
  tenantId: 'tenant-1',
  model: '',
  messages: [{ role: 'user', content: 'Tell me about spillways' }],
  sampling: { maxTokens: 16 },
  resumeFromText: '',
  ...overrides,
});

async function collect(events: AsyncIterable<TurnEvent>): Promise<TurnEvent[]> {
  const out: TurnEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

async function failureOf(events: AsyncIterable<TurnEvent>): Promise<DomainError> {
  try {
    await collect(events);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected the turn to fail');
}

describe('GenerateTurn', () => {
  it('streams started, the deltas and completed, and frees its slot', async () => {
    const runtime = readyRuntime();
    const engine = new ScriptedEngine({
      deltas: ['Hel', 'lo'],
      usage: { promptTokens: 9, completionTokens: 2, cachedPromptTokens: 4 },
    });
    const events = await collect(
      new GenerateTurn(runtime, engine, wordTokenizer).execute(
        command(),
        new AbortController().signal,
      ),
    );
    expect(events).toEqual([
      { kind: 'started', shardId: 'shard-a1', promptTokens: 10 },
      { kind: 'delta', text: 'Hel' },
      { kind: 'delta', text: 'lo' },
      {
        kind: 'completed',
        finishReason: 'stop',
        usage: { promptTokens: 9, completionTokens: 2, totalTokens: 11, cachedPromptTokens: 4 },
      },
    ]);
    expect(engine.requests[0]).toMatchObject({
      model: 'llama-3.1-8b',
      continueFinalMessage: false,
    });
    expect(runtime.inFlight).toBe(0);
    expect(runtime.currentLoad().recentPrefixBlocks).toEqual([1_000]);
  });

  it('continues a resumed turn from the text already streamed', async () => {
    const engine = new ScriptedEngine({ deltas: ['world'] });
    await collect(
      new GenerateTurn(readyRuntime(), engine, wordTokenizer).execute(
        command({ resumeFromText: 'Hello ' }),
        new AbortController().signal,
      ),
    );
    expect(engine.requests[0]).toMatchObject({
      continueFinalMessage: true,
      messages: [
        { role: 'user', content: 'Tell me about spillways' },
        { role: 'assistant', content: 'Hello ' },
      ],
    });
  });

  it('refuses the stream beyond the bound with SHARD.OVERLOADED and a retry hint', async () => {
    const runtime = readyRuntime({ maxInFlightStreams: 1 });
    let release!: () => void;
    const engine = new ScriptedEngine({
      deltas: ['x'],
      hold: new Promise((resolve) => (release = resolve)),
    });
    const turn = new GenerateTurn(runtime, engine, wordTokenizer);
    const first = turn.execute(command(), new AbortController().signal);
    await first.next();
    const refused = await failureOf(turn.execute(command(), new AbortController().signal));
    expect(refused.code).toBe('SHARD.OVERLOADED');
    expect(refused.message).toContain('shard-a1');
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    release();
    await collect(first);
    expect(runtime.inFlight).toBe(0);
  });

  it('names the shard when the engine dies, hangs or talks nonsense', async () => {
    const cases = [
      [
        new EngineFailure(
          'disconnected',
          "the engine's stream broke after 3 events (UND_ERR_SOCKET)",
        ),
        'SHARD.UNAVAILABLE',
      ],
      [
        new EngineFailure('timeout', 'the engine stalled for 100 ms after 3 stream events'),
        'ENGINE.TIMEOUT',
      ],
      [
        new EngineFailure('bad-response', 'stream event #2 is not JSON: "{oops"'),
        'ENGINE.BAD_RESPONSE',
      ],
      [new EngineFailure('rejected', 'HTTP 400: prompt too long', 400), 'REQUEST.INVALID'],
      [new EngineFailure('rejected', 'HTTP 429: busy', 429), 'SHARD.OVERLOADED'],
    ] as const;
    for (const [failure, code] of cases) {
      const runtime = readyRuntime();
      const error = await failureOf(
        new GenerateTurn(
          runtime,
          new ScriptedEngine({ deltas: ['a'], failAfterDeltas: failure }),
          wordTokenizer,
        ).execute(command(), new AbortController().signal),
      );
      expect(error.code).toBe(code);
      expect(error.message).toContain('shard-a1');
      expect(runtime.inFlight).toBe(0);
    }
  });

  it('refuses at once while the engine is unreachable, and marks it so after a refused connection', async () => {
    const runtime = readyRuntime();
    const engine = new ScriptedEngine({
      failOnOpen: new EngineFailure(
        'unreachable',
        'cannot connect to the engine at http://engine.test (ECONNREFUSED)',
      ),
    });
    const turn = new GenerateTurn(runtime, engine, wordTokenizer);
    expect((await failureOf(turn.execute(command(), new AbortController().signal))).code).toBe(
      'SHARD.UNAVAILABLE',
    );
    expect(runtime.engineHealth.ready).toBe(false);
    const next = await failureOf(turn.execute(command(), new AbortController().signal));
    expect(next.message).toContain('engine is not ready');
    expect(engine.requests).toHaveLength(1);
  });

  it('ends quietly as a cancellation when the caller goes away', async () => {
    const runtime = readyRuntime();
    let release!: () => void;
    const engine = new ScriptedEngine({
      deltas: ['x'],
      hold: new Promise((resolve) => (release = resolve)),
    });
    const caller = new AbortController();
    const stream = new GenerateTurn(runtime, engine, wordTokenizer).execute(
      command(),
      caller.signal,
    );
    await stream.next();
    await stream.next();
    const rest = stream.next();
    caller.abort();
    release();
    await expect(rest).rejects.toMatchObject({ name: 'AbortError' });
    expect(engine.aborted).toBe(1);
    expect(runtime.inFlight).toBe(0);
  });

  it('rejects a model the shard does not serve', async () => {
    const error = await failureOf(
      new GenerateTurn(readyRuntime(), new ScriptedEngine(), wordTokenizer).execute(
        command({ model: 'llama-3.1-70b' }),
        new AbortController().signal,
      ),
    );
    expect(error.code).toBe('REQUEST.INVALID');
  });
});
