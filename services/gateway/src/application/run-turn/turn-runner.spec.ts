import { DomainError } from '@spillway/errors';
import { type CompletedTurn, type TurnEvent } from '../../domain/chat.js';
import { type ChatPort, type ConverseCommand } from '../ports/chat.port.js';
import { type IdempotencyClaim, type IdempotencyStore } from '../ports/idempotency.port.js';
import { type QuotaPort } from '../ports/quota.port.js';
import { type ResponseCache } from '../ports/response-cache.port.js';
import {
  aTenant,
  allowed,
  NO_METRICS,
  quietLog,
  stoppedClock,
  TURN_SETTINGS,
} from '../testing/fixtures.js';
import { AdmissionGate } from './admission-gate.js';
import { type TurnRequest, TurnRunner } from './turn-runner.js';

const tenant = aTenant;

/** A router whose turns are scripted per test. */
class ScriptedChat implements Partial<ChatPort> {
  commands: ConverseCommand[] = [];
  aborted = false;
  script: (signal: AbortSignal) => AsyncIterable<TurnEvent> = async function* () {
    yield { type: 'started', turnId: 't1', shardId: 's' };
    yield { type: 'delta', text: 'Hello' };
    yield { type: 'delta', text: ' world' };
    yield {
      type: 'completed',
      turnId: 't1',
      finishReason: 'stop',
      usage: { promptTokens: 10, completionTokens: 2, totalTokens: 12, cachedPromptTokens: 0 },
    };
  };
  converse(command: ConverseCommand, options: { signal: AbortSignal }): AsyncIterable<TurnEvent> {
    this.commands.push(command);
    options.signal.addEventListener('abort', () => (this.aborted = true));
    return this.script(options.signal);
  }
}

function setup(request: Partial<TurnRequest> = {}) {
  const chat = new ScriptedChat();
  const settlements: { reserved: number; actual: number }[] = [];
  const quota: QuotaPort = {
    admit: async () => allowed,
    settle: async (_t, _l, reserved, actual) => void settlements.push({ reserved, actual }),
  };
  const idempotency = {
    claims: [] as string[],
    completed: [] as CompletedTurn[],
    abandoned: [] as string[],
  };
  const store: IdempotencyStore = {
    claim: async (_s, key): Promise<IdempotencyClaim> => (
      idempotency.claims.push(key),
      { status: 'acquired' }
    ),
    complete: async (_s, _k, _f, turn) => void idempotency.completed.push(turn),
    abandon: async (_s, key) => void idempotency.abandoned.push(key),
  };
  const cached: CompletedTurn[] = [];
  const cache: ResponseCache = {
    get: async () => undefined,
    put: async (_t, _k, turn) => void cached.push(turn),
  };
  const clock = stoppedClock;
  const gate = new AdmissionGate(clock, {
    maxConcurrentTurns: 10,
    drainWindowMs: 10_000,
    fallbackRetryAfterMs: 5_000,
    maxRetryAfterMs: 60_000,
  });
  const metrics = NO_METRICS;
  const runner = new TurnRunner(
    chat as unknown as ChatPort,
    quota,
    store,
    cache,
    gate,
    metrics,
    clock,
    quietLog,
    TURN_SETTINGS,
  );
  const turnRequest: TurnRequest = {
    tenant,
    model: 'm',
    messages: [{ role: 'user', content: 'x'.repeat(40) }],
    sampling: { temperature: 0 },
    stateless: true,
    fingerprintMaterial: 'f',
    cache: 'use',
    idempotencyKey: 'k1',
    ...request,
  };
  return { chat, settlements, idempotency, cached, gate, run: () => runner.start(turnRequest) };
}

describe('TurnRunner', () => {
  it('settles the real usage, records the turn for retries and the cache, and frees the slot', async () => {
    const { run, settlements, idempotency, cached, gate, chat } = setup();
    const outcome = await run();
    if (outcome.kind !== 'live') throw new Error('expected a live turn');
    expect(gate.inFlight).toBe(1);
    const turn = await outcome.turn.collect();
    expect(turn).toMatchObject({ turnId: 't1', content: 'Hello world', finishReason: 'stop' });
    // Prompt estimate 3 + 4 + 10 = 17, plus the default completion reserve of 100.
    expect(settlements).toEqual([{ reserved: 117, actual: 12 }]);
    expect(idempotency.completed).toHaveLength(1);
    expect(cached).toHaveLength(1);
    expect(gate.inFlight).toBe(0);
    expect(chat.commands[0]).toMatchObject({
      priority: 'standard',
      stateless: true,
      idempotencyKey: 'k1',
    });
  });

  it('cancels the router call when the client goes away, charges what was delivered and frees the key', async () => {
    const { run, chat, settlements, idempotency, gate } = setup();
    chat.script = async function* (signal) {
      yield { type: 'started', turnId: 't2', shardId: 's' };
      yield { type: 'delta', text: 'x'.repeat(40) };
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      throw new Error('aborted');
    };
    const outcome = await run();
    if (outcome.kind !== 'live') throw new Error('expected a live turn');
    const events = outcome.turn.events();
    expect((await events.next()).value).toEqual({ type: 'delta', text: 'x'.repeat(40) });
    await outcome.turn.abort();
    await expect(events.next()).rejects.toThrow();
    expect(chat.aborted).toBe(true);
    expect(settlements).toEqual([{ reserved: 117, actual: 17 + 10 }]);
    expect(idempotency.abandoned).toEqual(['k1']);
    expect(gate.inFlight).toBe(0);
  });

  it('turns a router shed before the first token into ADMISSION.SHED with the hint, refunding everything', async () => {
    const { run, chat, settlements, idempotency, gate } = setup();
    chat.script = async function* () {
      yield* [];
      throw new DomainError('SHARD.OVERLOADED', 'full', { retryAfterSeconds: 4 });
    };
    await expect(run()).rejects.toMatchObject({ code: 'SHARD.OVERLOADED', retryAfterSeconds: 4 });
    expect(settlements).toEqual([{ reserved: 117, actual: 0 }]);
    expect(idempotency.abandoned).toEqual(['k1']);
    expect(gate.inFlight).toBe(0);
    // The standard tier and below are now shed locally for the hint's duration.
    await expect(run()).rejects.toMatchObject({ code: 'ADMISSION.SHED' });
    expect(chat.commands).toHaveLength(1);
  });

  it('tells of a failure after the router stored the turn: mid-stream, cancelled or refused for load', async () => {
    const failures: string[] = [];
    const { run, chat } = setup({
      stateless: false,
      onFailedAfterStored: () => failures.push(chat.commands.length.toString()),
    });
    chat.script = async function* () {
      yield { type: 'started', turnId: 't3', shardId: 's' };
      throw new DomainError('SHARD.UNAVAILABLE', 'the shard went away');
    };
    const failedMidStream = await run();
    if (failedMidStream.kind !== 'live') throw new Error('expected a live turn');
    await expect(failedMidStream.turn.collect()).rejects.toMatchObject({
      code: 'SHARD.UNAVAILABLE',
    });

    chat.script = async function* () {
      yield { type: 'started', turnId: 't4', shardId: 's' };
      yield { type: 'delta', text: 'Hel' };
    };
    const cancelled = await run();
    if (cancelled.kind !== 'live') throw new Error('expected a live turn');
    await cancelled.turn.abort();

    chat.script = async function* () {
      yield* [];
      throw new DomainError('SHARD.OVERLOADED', 'full', { retryAfterSeconds: 1 });
    };
    await expect(run()).rejects.toMatchObject({ code: 'SHARD.OVERLOADED' });
    expect(failures).toEqual(['1', '2', '3']);
  });

  it('does not tell of a turn the router refused before storing it', async () => {
    let failures = 0;
    const { run, chat } = setup({ stateless: false, onFailedAfterStored: () => (failures += 1) });
    chat.script = async function* () {
      yield* [];
      throw new DomainError('CONVERSATION.CLOSED', 'closed');
    };
    await expect(run()).rejects.toMatchObject({ code: 'CONVERSATION.CLOSED' });
    expect(failures).toBe(0);
  });

  it('refuses, before taking quota, a request larger than the tenant could ever be granted', async () => {
    const { run, settlements } = setup({ sampling: { maxTokens: 200_000 } });
    await expect(run()).rejects.toMatchObject({
      code: 'REQUEST.INVALID',
      details: { param: 'max_tokens', reason: 'exceeds_token_limit' },
    });
    expect(settlements).toEqual([]);
  });
});
