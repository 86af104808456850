import { promptIds, sequenceSpec, testProfile } from '../../test/factories.js';
import { decodeStepMs, stepDurationMs } from './engine-profile.js';
import { promptBlockHashes } from './hash.js';
import { Engine, type StepOutputs } from './engine.js';

/** Runs steps back to back from `startMs` until idle (bounded); returns every step's outputs. */
function runToIdle(engine: Engine, startMs = 0, maxSteps = 10_000): StepOutputs[] {
  const outputs: StepOutputs[] = [];
  let now = startMs;
  for (let i = 0; i < maxSteps && !engine.idle; i++) {
    const step = engine.schedule(now);
    if (!step) break;
    const out = engine.complete(step);
    now = out.endMs;
    outputs.push(out);
  }
  return outputs;
}

function tokensOf(outputs: StepOutputs[], id: string): number[] {
  return outputs.flatMap((o) => o.emitted.filter((e) => e.id === id).map((e) => e.index));
}

describe('Engine: batching', () => {
  it('runs prefill then one decode token per step per sequence, in order', () => {
    const engine = new Engine(testProfile());
    engine.submit(sequenceSpec({ id: 'a', promptLength: 40, outputLength: 5 }));
    const outputs = runToIdle(engine);
    expect(tokensOf(outputs, 'a')).toEqual([0, 1, 2, 3, 4]);
    expect(outputs).toHaveLength(5);
    expect(outputs[0]!.timeToFirstTokenMs).toHaveLength(1);
    expect(engine.counters.generationTokens).toBe(5);
    expect(engine.counters.promptTokens).toBe(40);
  });

  it('never runs more than max_num_seqs sequences at once', () => {
    const engine = new Engine(testProfile({ maxNumSeqs: 3 }));
    for (let i = 0; i < 7; i++) engine.submit(sequenceSpec({ promptLength: 8, outputLength: 4 }));
    const step = engine.schedule(0)!;
    expect(step.chunks).toHaveLength(3);
    expect(engine.numRunning).toBe(3);
    expect(engine.numWaiting).toBe(4);
    engine.complete(step);
    let maxRunning = 0;
    for (let now = 0; !engine.idle;) {
      const next = engine.schedule(now)!;
      maxRunning = Math.max(maxRunning, next.chunks.length);
      now = engine.complete(next).endMs;
    }
    expect(maxRunning).toBe(3);
  });

  it('chunks a prefill larger than max_num_batched_tokens over several steps', () => {
    const engine = new Engine(testProfile({ maxNumBatchedTokens: 256 }));
    engine.submit(sequenceSpec({ id: 'long', promptLength: 600, outputLength: 2 }));
    const outputs = runToIdle(engine);
    // 256 + 256 + 88 prompt tokens, the last chunk samples the first token; then one decode step.
    expect(outputs.map((o) => o.batchedTokens)).toEqual([256, 256, 88, 1]);
    expect(tokensOf(outputs, 'long')).toEqual([0, 1]);
  });

  it('shares the token budget between decodes and a new prefill', () => {
    const engine = new Engine(testProfile({ maxNumBatchedTokens: 100 }));
    engine.submit(sequenceSpec({ id: 'a', promptLength: 10, outputLength: 50 }));
    engine.complete(engine.schedule(0)!);
    engine.submit(sequenceSpec({ id: 'b', promptLength: 500, outputLength: 2 }));
    const step = engine.schedule(10)!;
    expect(step.shape.decodeSeqs).toBe(1);
    expect(step.shape.prefillTokens).toBe(99);
  });

  it("holds a request until the API server's latency has passed", () => {
    const engine = new Engine(testProfile());
    engine.submit(sequenceSpec({ id: 'late', readyAtMs: 50 }));
    expect(engine.schedule(10)).toBeUndefined();
    expect(engine.nextReadyAtMs()).toBe(50);
    expect(engine.schedule(50)).toBeDefined();
  });
});

describe('Engine: KV blocks', () => {
  it('holds ceil(tokens / 16) blocks while running and frees them at the end', () => {
    const engine = new Engine(testProfile({ numBlocks: 64 }));
    engine.submit(sequenceSpec({ id: 'a', promptLength: 33, outputLength: 3 }));
    engine.complete(engine.schedule(0)!);
    expect(engine.pool.usedBlocks).toBe(3); // 33 prompt tokens
    runToIdle(engine, 100);
    expect(engine.pool.usedBlocks).toBe(0);
  });

  it('frees the blocks of an aborted request at once, even mid-step', () => {
    const engine = new Engine(testProfile({ numBlocks: 64 }));
    engine.submit(sequenceSpec({ id: 'a', promptLength: 100, outputLength: 10 }));
    const step = engine.schedule(0)!;
    expect(engine.pool.usedBlocks).toBe(7);
    expect(engine.abort('a')).toBe(true);
    expect(engine.pool.usedBlocks).toBe(0);
    expect(engine.numRunning).toBe(0);
    expect(engine.complete(step).emitted).toEqual([]);
    expect(engine.abort('a')).toBe(false);
  });

  it('refuses a request that could never fit the KV cache', () => {
    const engine = new Engine(testProfile({ numBlocks: 4 }));
    expect(() => engine.submit(sequenceSpec({ promptLength: 60, outputLength: 10 }))).toThrow(
      /limit is 64/,
    );
  });
});

describe('Engine: prefix cache', () => {
  it('hits the full blocks of a prompt seen before, counted in tokens, leaving one token to compute', () => {
    const engine = new Engine(testProfile());
    const prompt = promptIds(64);
    engine.submit(sequenceSpec({ id: 'first', promptTokenIds: prompt }));
    runToIdle(engine);
    expect(engine.counters.prefixCacheQueries).toBe(64);
    expect(engine.counters.prefixCacheHits).toBe(0);

    engine.submit(sequenceSpec({ id: 'again', promptTokenIds: prompt }));
    const step = engine.schedule(1000)!;
    // 64 tokens = 4 full blocks, but the last token must be computed: 3 blocks (48 tokens) hit.
    expect(engine.counters.prefixCacheHits).toBe(48);
    expect(engine.counters.prefixCacheQueries).toBe(128);
    expect(step.shape.prefillTokens).toBe(16);
  });

  it('keys cached blocks by the exported promptBlockHashes (what a router can compute)', () => {
    const engine = new Engine(testProfile());
    const prompt = promptIds(70);
    engine.submit(sequenceSpec({ promptTokenIds: prompt, outputLength: 1 }));
    runToIdle(engine);
    const hashes = promptBlockHashes(prompt);
    expect(hashes).toHaveLength(4);
    for (const hash of hashes) expect(engine.pool.lookup(hash)).toBeDefined();
  });

  it('hits only the shared leading blocks of a different prompt', () => {
    const engine = new Engine(testProfile());
    const shared = promptIds(40);
    engine.submit(sequenceSpec({ promptTokenIds: [...shared, ...promptIds(30)] }));
    runToIdle(engine);
    engine.submit(sequenceSpec({ promptTokenIds: [...shared, ...promptIds(30)] }));
    engine.schedule(1000);
    expect(engine.counters.prefixCacheHits).toBe(32); // 40 shared tokens = 2 full blocks
  });

  it('caches generated tokens too, so the next turn hits through the previous reply', () => {
    const engine = new Engine(testProfile());
    const prompt = promptIds(20);
    const reply = Array.from({ length: 30 }, (_, i) => 9000 + i);
    engine.submit(sequenceSpec({ promptTokenIds: prompt, outputTokenIds: reply }));
    runToIdle(engine);
    engine.submit(sequenceSpec({ promptTokenIds: [...prompt, ...reply, 1, 2, 3] }));
    engine.schedule(1000);
    // 20 + 29 computed tokens (the last sampled token never is): 3 full blocks.
    expect(engine.counters.prefixCacheHits).toBe(48);
  });

  it('makes a cached prefill cheaper: only uncached tokens cost prefill time', () => {
    const profile = testProfile();
    const engine = new Engine(profile);
    const prompt = promptIds(1024);
    engine.submit(sequenceSpec({ promptTokenIds: prompt }));
    const cold = engine.schedule(0)!;
    engine.complete(cold);
    runToIdle(engine, cold.startMs + cold.durationMs);
    engine.submit(sequenceSpec({ promptTokenIds: prompt }));
    const warm = engine.schedule(10_000)!;
    expect(cold.shape.prefillTokens).toBe(1024);
    expect(warm.shape.prefillTokens).toBe(16);
    expect(warm.durationMs).toBeLessThan(cold.durationMs);
  });

  it('evicts unreferenced cached blocks least-recently-freed first when space is needed', () => {
    const engine = new Engine(testProfile({ numBlocks: 16 }));
    const old = promptIds(64); // 4 cached blocks
    const recent = promptIds(96); // 6 cached blocks
    for (const prompt of [old, recent]) {
      engine.submit(sequenceSpec({ promptTokenIds: prompt, outputLength: 1 }));
      runToIdle(engine, 1000 * engine.counters.steps);
    }
    // 160 tokens need 10 blocks: the 6 clean ones, then the 4 oldest cached ones (all of `old`).
    engine.submit(sequenceSpec({ promptTokenIds: promptIds(160), outputLength: 1 }));
    runToIdle(engine, 10_000);
    expect(engine.pool.evictedBlocks).toBe(4);
    const hits = () => engine.counters.prefixCacheHits;
    let before = hits();
    engine.submit(sequenceSpec({ promptTokenIds: old, outputLength: 1 }));
    runToIdle(engine, 20_000);
    expect(hits() - before).toBe(0);
    before = hits();
    engine.submit(sequenceSpec({ promptTokenIds: recent, outputLength: 1 }));
    engine.schedule(30_000);
    expect(hits() - before).toBeGreaterThan(0);
  });
});

describe('Engine: preemption', () => {
  it('preempts the newest running sequence when the KV cache is full, then finishes everything', () => {
    // 12 blocks; three sequences of 16-token prompts growing to 16 + 64 tokens (5 blocks each) cannot all fit.
    const engine = new Engine(testProfile({ numBlocks: 12 }));
    for (const id of ['a', 'b', 'c'])
      engine.submit(sequenceSpec({ id, promptLength: 16, outputLength: 64 }));
    const preempted: string[] = [];
    const outputs: StepOutputs[] = [];
    for (let now = 0, i = 0; !engine.idle && i < 10_000; i++) {
      const step = engine.schedule(now)!;
      preempted.push(...step.preempted);
      const out = engine.complete(step);
      outputs.push(out);
      now = out.endMs;
      expect(engine.pool.usedBlocks).toBeLessThanOrEqual(12);
    }
    expect(preempted[0]).toBe('c');
    expect(engine.counters.preemptions).toBeGreaterThan(0);
    for (const id of ['a', 'b', 'c']) {
      expect(tokensOf(outputs, id)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    }
    expect(engine.pool.usedBlocks).toBe(0);
  });
});

describe('step time', () => {
  it('grows with prompt length and with decode batch size', () => {
    const { timing } = testProfile({ timing: { prefillAttentionMsPerMillionPairs: 1 } });
    const prefill = (n: number) =>
      stepDurationMs(timing, {
        prefillTokens: n,
        prefillAttentionPairs: n * (n / 2),
        decodeSeqs: 0,
        decodeContextTokens: 0,
      });
    expect(prefill(128)).toBeLessThan(prefill(512));
    expect(prefill(512)).toBeLessThan(prefill(8192));
    let previous = 0;
    for (let batch = 1; batch <= 512; batch++) {
      const ms = decodeStepMs(timing, batch);
      expect(ms).toBeGreaterThanOrEqual(previous);
      previous = ms;
    }
    expect(decodeStepMs(timing, 64)).toBeGreaterThan(decodeStepMs(timing, 1));
  });
});
