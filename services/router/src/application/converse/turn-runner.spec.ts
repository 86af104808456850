import { DomainError } from '@spillway/errors';
import {
  AssignmentView,
  DEFAULT_LATENCY_MODEL,
  DEFAULT_PLACEMENT_CONFIG,
  IDLE_LOAD,
  PlacementPipeline,
  ShardQueues,
  aDirectory,
  aShard,
  seededRandom,
  type ShardDirectory,
  type ShardView,
} from '../../domain/index.js';
import { TurnAdmission } from '../admission/turn-admission.js';
import type {
  AssignmentRegistryPort,
  CompareAndSetAssignment,
} from '../assignment-registry.port.js';
import { OpenAttempts } from '../failover/open-attempts.js';
import { SuspectShards } from '../failover/suspect-shards.js';
import type {
  GenerateEvent,
  GenerateRequest,
  InferencePort,
  ShardAddress,
} from '../inference.port.js';
import type { TurnFinishReason } from '../conversation.port.js';
import { SILENT_LOG } from '../log.port.js';
import { PlaceTurn } from '../place-turn/place-turn.js';
import { NO_METRICS } from '../router-metrics.port.js';
import { TurnRunner, type TurnRunEvent, type TurnSpec } from './turn-runner.js';

type Script = (request: GenerateRequest, signal: AbortSignal) => AsyncIterable<GenerateEvent>;

/** Each shard answers with the next script queued for it. */
class ScriptedInference implements InferencePort {
  readonly calls: { shardId: string; request: GenerateRequest }[] = [];
  private readonly scripts = new Map<string, Script[]>();

  on(shardId: string, ...scripts: Script[]): this {
    this.scripts.set(shardId, [...(this.scripts.get(shardId) ?? []), ...scripts]);
    return this;
  }

  generate(shard: ShardAddress, request: GenerateRequest, signal: AbortSignal) {
    this.calls.push({ shardId: shard.shardId, request });
    const script = this.scripts.get(shard.shardId)?.shift();
    if (script === undefined) throw new Error(`no script left for ${shard.shardId}`);
    return script(request, signal);
  }
}

/** Streams `tokens`; `failAfter` tokens in, throws `error` (or hangs until aborted). */
function reply(
  tokens: readonly string[],
  options: {
    failAfter?: number;
    error?: Error | 'hang' | 'end';
    finishReason?: TurnFinishReason;
  } = {},
): Script {
  return async function* (request, signal) {
    yield { kind: 'started', shardId: '', promptTokens: 10 };
    for (const [i, token] of tokens.entries()) {
      if (i === options.failAfter) {
        const error = options.error ?? unavailable();
        if (error === 'end') return;
        if (error === 'hang') {
          await new Promise((_, reject) => {
            if (signal.aborted) reject(signal.reason as Error);
            signal.addEventListener('abort', () => reject(signal.reason as Error));
          });
          return;
        }
        throw error;
      }
      yield { kind: 'delta', text: token };
    }
    yield {
      kind: 'completed',
      finishReason: options.finishReason ?? 'stop',
      usage: {
        promptTokens: 10,
        completionTokens: tokens.length,
        totalTokens: 10 + tokens.length,
        cachedPromptTokens: request.resumeFromText === '' ? 0 : 10,
      },
    };
  };
}

const unavailable = () => new DomainError('SHARD.UNAVAILABLE', 'shard is unavailable');

/** The shard's own admission: every stream slot taken, a slot expected in `retryAfterMs`. */
function refusedAsFull(retryAfterMs: number): Script {
  // eslint-disable-next-line require-yield -- refuses before its first event, as the adapter does
  return async function* () {
    throw new DomainError('SHARD.OVERLOADED', 'shard is serving its maximum of 24 streams', {
      retryAfterSeconds: retryAfterMs / 1_000,
    });
  };
}

class InMemoryRegistry implements AssignmentRegistryPort {
  readonly authority = new AssignmentView();
  refuse: DomainError | undefined;

  async compareAndSet(request: CompareAndSetAssignment) {
    if (this.refuse !== undefined) {
      const error = this.refuse;
      this.refuse = undefined;
      throw error;
    }
    return this.authority.compareAndSet(
      request.conversationId,
      request.expectedVersion,
      request.shardId,
    );
  }
}

interface RunnerOptions {
  readonly maxFailovers?: number;
  readonly failoverWaitMs?: number;
  /** The spare shard's state when the turn starts. */
  readonly spareState?: ShardView['state'];
  /** Runs at each wait of the runner, after the clock has moved on by the wait. */
  readonly onWait?: (shards: ShardDirectory) => void;
  readonly replyLengths?: { observe(completionTokens: number): void };
}

function aRunner(inference: ScriptedInference, options: RunnerOptions = {}) {
  const shards: ShardDirectory = aDirectory(
    aShard({ id: 'home' }),
    aShard({ id: 'spare', state: options.spareState ?? 'ready' }),
  );
  const registry = new InMemoryRegistry();
  const assignments = new AssignmentView();
  // The conversation lives on "home".
  const pinned = registry.authority.compareAndSet('c-1', 0, 'home');
  if (pinned.applied) assignments.applyRemote(pinned.current);
  let nowMs = 1_000;
  const clock = { nowMs: () => nowMs };
  // Time moves only when the runner waits: each wait passes at once, the clock advanced by it.
  const timer = {
    schedule: (ms: number, fn: () => void) => {
      queueMicrotask(() => {
        nowMs += ms;
        options.onWait?.(shards);
        fn();
      });
      return () => undefined;
    },
  };
  const queues = new ShardQueues(8);
  const admission = new TurnAdmission({
    shards,
    queues,
    clock,
    latency: DEFAULT_LATENCY_MODEL,
    metrics: NO_METRICS,
  });
  const attempts = new OpenAttempts();
  const suspects = new SuspectShards(clock, 5_000);
  const runner = new TurnRunner({
    placeTurn: new PlaceTurn({
      pipeline: new PlacementPipeline(DEFAULT_PLACEMENT_CONFIG, seededRandom(3)),
      shards,
      assignments,
      routes: {
        current: () => ({ models: { llama: { pools: [{ pool: 'pool-a', weight: 1 }] } } }),
      },
      registry,
      clock,
      queues,
    }),
    admission,
    inference,
    encoder: {
      encode: () => ({ promptTokens: 10, blocks: [] }),
      countTextTokens: (text) => text.split(' ').filter(Boolean).length,
    },
    shards,
    attempts,
    suspects,
    clock,
    timer,
    metrics: NO_METRICS,
    log: SILENT_LOG,
    replyLengths: options.replyLengths,
    settings: {
      maxFailovers: options.maxFailovers ?? 3,
      stallTimeoutMs: 0,
      failoverWaitMs: options.failoverWaitMs ?? 0,
    },
  });
  return { runner, registry, admission, attempts, suspects, shards };
}

const spec: TurnSpec = {
  tenantId: 'tenant-1',
  conversationId: 'c-1',
  turnId: 't-1',
  model: 'llama',
  messages: [{ role: 'user', content: 'hello' }],
  sampling: { maxTokens: 10 },
  priority: 'standard',
  ttftBudgetMs: 0,
  pin: true,
  encoded: { promptTokens: 10, blocks: [] },
};

async function collect(
  run: AsyncIterable<TurnRunEvent>,
): Promise<Exclude<TurnRunEvent, { kind: 'placed' }>[]> {
  const out: Exclude<TurnRunEvent, { kind: 'placed' }>[] = [];
  for await (const event of run) if (event.kind !== 'placed') out.push(event);
  return out;
}

describe('turn runner', () => {
  it('tells the latency model how long the finished reply was', async () => {
    const inference = new ScriptedInference().on('home', reply([' one', ' two', ' three']));
    const observed: number[] = [];
    const { runner } = aRunner(inference, {
      replyLengths: { observe: (tokens) => observed.push(tokens) },
    });

    await collect(runner.run(spec, new AbortController().signal));

    expect(observed).toEqual([3]);
  });

  it('streams the reply from the conversation’s shard', async () => {
    const inference = new ScriptedInference().on('home', reply([' one', ' two']));
    const { runner, admission } = aRunner(inference);

    const events = await collect(runner.run(spec, new AbortController().signal));

    expect(events).toEqual([
      { kind: 'started', shardId: 'home', reason: 'affinity' },
      { kind: 'delta', text: ' one', index: 0 },
      { kind: 'delta', text: ' two', index: 1 },
      {
        kind: 'finished',
        result: expect.objectContaining({
          text: ' one two',
          shardId: 'home',
          failovers: 0,
          usage: { promptTokens: 10, completionTokens: 2, totalTokens: 12, cachedPromptTokens: 0 },
        }),
      },
    ]);
    expect(admission.openStreamCount()).toBe(0);
  });

  it('runs the turn elsewhere when the shard fails before the first token, and re-pins', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one'], { failAfter: 0 }))
      .on('spare', reply([' one', ' two']));
    const { runner, registry, suspects } = aRunner(inference);

    const events = await collect(runner.run(spec, new AbortController().signal));

    expect(events[0]).toEqual({ kind: 'started', shardId: 'spare', reason: 'failover' });
    expect(events.at(-1)).toMatchObject({
      kind: 'finished',
      result: { text: ' one two', shardId: 'spare', failovers: 1 },
    });
    expect(inference.calls.map((call) => call.request.resumeFromText)).toEqual(['', '']);
    expect(registry.authority.get('c-1')).toMatchObject({ shardId: 'spare', version: 2 });
    expect(suspects.list()).toEqual(['home']);
  });

  it('queues a turn that failed before its first token on a busy shard instead of refusing it for its budget', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one'], { failAfter: 0 }))
      .on('spare', reply([' one', ' two']));
    const { runner, shards, admission } = aRunner(inference);
    // The only other shard is full: a fresh turn with this budget would be refused at once.
    const full = { ...IDLE_LOAD, inFlight: 8, running: 8, waiting: 30, ttftMsP50: 300 };
    shards.reportLoad('spare', full, []);

    const run = collect(runner.run({ ...spec, ttftBudgetMs: 50 }, new AbortController().signal));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(inference.calls.map((call) => call.shardId)).toEqual(['home']);
    // A slot frees on the spare shard: the waiting turn gets it.
    admission.applyLoadReport('spare', IDLE_LOAD, []);
    const events = await run;

    expect(events.at(-1)).toMatchObject({
      kind: 'finished',
      result: { text: ' one two', shardId: 'spare', failovers: 1 },
    });
  });

  it('resumes mid-stream on another shard after the text already sent, with nothing repeated', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one', ' two', ' three'], { failAfter: 2 }))
      .on('spare', reply([' three', ' four']));
    const { runner } = aRunner(inference);

    const events = await collect(runner.run(spec, new AbortController().signal));

    const resumed = inference.calls[1]?.request;
    expect(resumed).toMatchObject({ resumeFromText: ' one two', sampling: { maxTokens: 8 } });
    expect(events.filter((e) => e.kind === 'delta')).toEqual([
      { kind: 'delta', text: ' one', index: 0 },
      { kind: 'delta', text: ' two', index: 1 },
      { kind: 'delta', text: ' three', index: 2 },
      { kind: 'delta', text: ' four', index: 3 },
    ]);
    expect(events.filter((e) => e.kind === 'started')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      result: {
        text: ' one two three four',
        shardId: 'spare',
        failovers: 1,
        usage: { completionTokens: 4 },
      },
    });
  });

  it('treats a stream that ends without its completion as a failed shard', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one', ' two'], { failAfter: 1, error: 'end' }))
      .on('spare', reply([' two']));
    const { runner } = aRunner(inference);

    const events = await collect(runner.run(spec, new AbortController().signal));

    expect(events.at(-1)).toMatchObject({ result: { text: ' one two', failovers: 1 } });
  });

  it('resumes a reply the engine ended with an error on another shard, after the text already sent', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one', ' two'], { finishReason: 'error' }))
      .on('spare', reply([' three'], { finishReason: 'length' }));
    const { runner } = aRunner(inference);

    const events = await collect(runner.run(spec, new AbortController().signal));

    expect(inference.calls[1]).toMatchObject({
      shardId: 'spare',
      request: { resumeFromText: ' one two' },
    });
    expect(events.at(-1)).toMatchObject({
      result: { text: ' one two three', shardId: 'spare', finishReason: 'length', failovers: 1 },
    });
  });

  it('cuts a silent stream when the shard turns FAILED in the directory, and resumes it', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one', ' two'], { failAfter: 1, error: 'hang' }))
      .on('spare', reply([' two']));
    const { runner, attempts } = aRunner(inference);
    const run = runner.run(spec, new AbortController().signal);

    const events: TurnRunEvent[] = [];
    for await (const event of run) {
      events.push(event);
      if (event.kind === 'delta') attempts.cutShard('home', 'shard-failed');
    }

    expect(events.at(-1)).toMatchObject({ result: { text: ' one two', shardId: 'spare' } });
  });

  it('does not retry what every shard would refuse', async () => {
    const inference = new ScriptedInference().on(
      'home',
      reply([' one'], {
        failAfter: 0,
        error: new DomainError('REQUEST.INVALID', 'the engine rejected the request'),
      }),
    );
    const { runner } = aRunner(inference);

    await expect(collect(runner.run(spec, new AbortController().signal))).rejects.toMatchObject({
      code: 'REQUEST.INVALID',
    });
    expect(inference.calls).toHaveLength(1);
  });

  it('gives up after its failover budget', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one'], { failAfter: 0 }))
      .on('spare', reply([' one'], { failAfter: 0 }));
    const { runner } = aRunner(inference, { maxFailovers: 1 });

    await expect(collect(runner.run(spec, new AbortController().signal))).rejects.toMatchObject({
      code: 'SHARD.UNAVAILABLE',
    });
    expect(inference.calls.map((call) => call.shardId)).toEqual(['home', 'spare']);
  });

  it('waits for a shard to become ready when a failed-over turn has nowhere to go', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one', ' two'], { failAfter: 1 }))
      .on('spare', reply([' two']));
    let waits = 0;
    const { runner } = aRunner(inference, {
      failoverWaitMs: 2_000,
      spareState: 'starting',
      // The spare's "ready" heartbeat lands during the third wait.
      onWait: (shards) => {
        if (++waits === 3) shards.upsert(aShard({ id: 'spare', state: 'ready' }));
      },
    });

    const events = await collect(runner.run(spec, new AbortController().signal));

    expect(waits).toBe(3);
    expect(events.at(-1)).toMatchObject({
      result: { text: ' one two', shardId: 'spare', failovers: 1 },
    });
  });

  it('fails a failed-over turn once its wait for a ready shard runs out', async () => {
    const inference = new ScriptedInference().on('home', reply([' one', ' two'], { failAfter: 1 }));
    let waits = 0;
    const { runner } = aRunner(inference, {
      failoverWaitMs: 1_000,
      spareState: 'starting',
      onWait: () => void waits++,
    });

    await expect(collect(runner.run(spec, new AbortController().signal))).rejects.toMatchObject({
      code: 'SHARD.UNAVAILABLE',
      message: expect.stringContaining('no other ready shard'),
    });
    expect(waits).toBe(10); // 1,000 ms in steps of 100 ms, then it gives up
    expect(inference.calls.map((call) => call.shardId)).toEqual(['home']);
  });

  it('waits out the retry hint of a full shard that is the only one left, and resumes there', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one', ' two'], { failAfter: 1 }))
      .on('spare', refusedAsFull(300), reply([' two']));
    let waits = 0;
    const { runner, suspects } = aRunner(inference, {
      failoverWaitMs: 3_000,
      onWait: () => void waits++,
    });

    const events = await collect(runner.run(spec, new AbortController().signal));

    // Tried again only once its 300 ms had passed (waits of 100 ms), after the text already sent.
    expect(waits).toBe(3);
    expect(inference.calls.map((call) => call.shardId)).toEqual(['home', 'spare', 'spare']);
    expect(inference.calls[2]?.request.resumeFromText).toBe(' one');
    expect(events.at(-1)).toMatchObject({
      result: { text: ' one two', shardId: 'spare', failovers: 1 },
    });
    // Full is not failed: the turns behind this one do not avoid the spare shard.
    expect(suspects.list()).toEqual(['home']);
  });

  it('sends a fresh turn from its full shard to another without counting a failover', async () => {
    const inference = new ScriptedInference()
      .on('home', refusedAsFull(500))
      .on('spare', reply([' one']));
    const { runner, suspects } = aRunner(inference);

    const events = await collect(runner.run(spec, new AbortController().signal));

    expect(inference.calls.map((call) => call.shardId)).toEqual(['home', 'spare']);
    expect(events.at(-1)).toMatchObject({ result: { shardId: 'spare', failovers: 0 } });
    expect(suspects.list()).toEqual([]);
  });

  it('refuses with the full shards and their retry hint when no shard can take the turn', async () => {
    const inference = new ScriptedInference()
      .on('home', reply([' one', ' two'], { failAfter: 1 }))
      .on('spare', refusedAsFull(400));
    const { runner } = aRunner(inference, { failoverWaitMs: 0 });

    await expect(collect(runner.run(spec, new AbortController().signal))).rejects.toMatchObject({
      code: 'SHARD.OVERLOADED',
      message: expect.stringContaining('is full (spare); retry in 400 ms'),
      retryAfterSeconds: 0.4,
    });
  });

  it('gives up when the shards stay full refusal after refusal', async () => {
    const refusals = Array.from({ length: 17 }, () => refusedAsFull(100));
    const inference = new ScriptedInference()
      .on('home', reply([' one', ' two'], { failAfter: 1 }))
      .on('spare', ...refusals);
    const { runner } = aRunner(inference, { failoverWaitMs: 3_000 });

    await expect(collect(runner.run(spec, new AbortController().signal))).rejects.toMatchObject({
      code: 'SHARD.OVERLOADED',
      message: expect.stringContaining('was full, 17 times'),
    });
    expect(inference.calls).toHaveLength(18);
  });

  it('ends as a cancellation when the caller goes away, and frees its slot', async () => {
    const inference = new ScriptedInference().on(
      'home',
      reply([' one', ' two'], { failAfter: 1, error: 'hang' }),
    );
    const { runner, admission } = aRunner(inference);
    const controller = new AbortController();

    const ending = (async () => {
      for await (const event of runner.run(spec, controller.signal))
        if (event.kind === 'delta') controller.abort();
    })();

    await expect(ending).rejects.toMatchObject({ name: 'AbortError' });
    expect(inference.calls).toHaveLength(1);
    expect(admission.openStreamCount()).toBe(0);
  });

  it('places the turn again, without counting a failover, when the registry refuses the pin', async () => {
    const inference = new ScriptedInference().on('home', reply([' one']));
    const { runner, registry, shards } = aRunner(inference);
    // A new conversation: the idle "spare" looks best to this router, but the registry knows it
    // failed; the busier "home" takes the turn.
    shards.upsert(aShard({ id: 'home', load: { inFlight: 4, running: 4 } }));
    registry.refuse = new DomainError('SHARD.UNAVAILABLE', 'shard spare failed');

    const events = await collect(
      runner.run({ ...spec, conversationId: 'c-new' }, new AbortController().signal),
    );

    expect(events.at(-1)).toMatchObject({
      kind: 'finished',
      result: { shardId: 'home', failovers: 0 },
    });
    expect(inference.calls.map((call) => call.shardId)).toEqual(['home']);
  });
});
