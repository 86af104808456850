import { stepDurationMs, type EngineProfile, type StepShape } from './engine-profile.js';
import { KvBlockPool } from './kv-block-pool.js';
import { Sequence, type SequenceSpec } from './sequence.js';

/**
 * The engine model of one vLLM server: continuous batching in steps, chunked prefill, a paged KV
 * cache with automatic prefix caching, and preemption by recomputation. Pure: time is passed in
 * and nothing here waits. A driver calls `schedule(now)` at the start of a step, waits the
 * returned duration, then calls `complete(step)` to get the tokens the step produced.
 *
 * Scheduling follows vLLM V1: running sequences first (a decode token each, or the next chunk of
 * a long prefill), preempting the newest running sequence when the KV cache cannot grow; then
 * waiting sequences in arrival order while the token budget, max_num_seqs and free blocks allow,
 * unless something was preempted in this step.
 */

export interface ScheduledChunk {
  readonly sequence: Sequence;
  readonly tokens: number;
  readonly computedBefore: number;
  readonly decode: boolean;
}

export interface ScheduledStep {
  readonly startMs: number;
  readonly durationMs: number;
  readonly shape: StepShape;
  readonly chunks: readonly ScheduledChunk[];
  readonly preempted: readonly string[];
}

export interface EmittedToken {
  readonly id: string;
  /** 0-based index of the token among the request's outputs. */
  readonly index: number;
  readonly last: boolean;
}

export interface FinishedSequence {
  readonly id: string;
  readonly arrivalMs: number;
  readonly firstScheduledMs: number;
  readonly firstTokenMs: number;
  readonly endMs: number;
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly preemptions: number;
}

export interface StepOutputs {
  readonly endMs: number;
  readonly emitted: readonly EmittedToken[];
  readonly finished: readonly FinishedSequence[];
  /** Time to first token of each request that got its first token in this step, ms. */
  readonly timeToFirstTokenMs: readonly number[];
  /** Gap since the previous token, for each non-first token of this step, ms. */
  readonly interTokenMs: readonly number[];
  readonly promptTokens: number;
  readonly generationTokens: number;
  readonly batchedTokens: number;
}

export interface EngineCounters {
  /** Prompt tokens looked up in the prefix cache on first scheduling (vLLM counts tokens). */
  prefixCacheQueries: number;
  /** Of which found cached. */
  prefixCacheHits: number;
  preemptions: number;
  promptTokens: number;
  generationTokens: number;
  steps: number;
}

export class Engine {
  readonly pool: KvBlockPool;
  readonly counters: EngineCounters = {
    prefixCacheQueries: 0,
    prefixCacheHits: 0,
    preemptions: 0,
    promptTokens: 0,
    generationTokens: 0,
    steps: 0,
  };

  private readonly waiting: Sequence[] = [];
  private running: Sequence[] = [];
  private readonly byId = new Map<string, Sequence>();
  private inFlight: ScheduledStep | undefined;

  constructor(readonly profile: EngineProfile) {
    this.pool = new KvBlockPool(profile.kvCache.numBlocks, profile.kvCache.blockSizeTokens);
  }

  get numRunning(): number {
    return this.running.length;
  }

  get numWaiting(): number {
    return this.waiting.length;
  }

  get idle(): boolean {
    return this.running.length === 0 && this.waiting.length === 0;
  }

  /** Largest prompt + output a request may have: it must fit the KV cache on its own. */
  get maxSequenceTokens(): number {
    return Math.min(this.profile.scheduler.maxModelLen, this.pool.numBlocks * this.pool.blockSize);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  submit(spec: SequenceSpec): void {
    if (this.byId.has(spec.id)) throw new Error(`duplicate request id ${spec.id}`);
    const total = spec.promptTokenIds.length + spec.outputTokenIds.length;
    if (total > this.maxSequenceTokens) {
      throw new RangeError(
        `request ${spec.id} needs ${total} tokens; the limit is ${this.maxSequenceTokens}`,
      );
    }
    const sequence = new Sequence(spec, this.pool.blockSize);
    this.byId.set(spec.id, sequence);
    // Keep the queue ordered by readiness (arrivals are nearly always already in order).
    let at = this.waiting.length;
    while (at > 0 && (this.waiting[at - 1]?.spec.readyAtMs ?? 0) > spec.readyAtMs) at--;
    this.waiting.splice(at, 0, sequence);
  }

  /** Removes a request wherever it is and frees its KV blocks; false when unknown. */
  abort(id: string): boolean {
    const sequence = this.byId.get(id);
    if (!sequence) return false;
    this.byId.delete(id);
    if (sequence.state === 'waiting') {
      const at = this.waiting.indexOf(sequence);
      if (at >= 0) this.waiting.splice(at, 1);
    } else if (sequence.state === 'running') {
      this.running = this.running.filter((s) => s !== sequence);
    }
    this.pool.release(sequence.blocks);
    sequence.blocks = [];
    sequence.state = 'aborted';
    return true;
  }

  /** When the first waiting request becomes ready, if it is not yet (for an idle driver to wake). */
  nextReadyAtMs(): number | undefined {
    return this.waiting[0]?.spec.readyAtMs;
  }

  /**
   * Plans the next step at `nowMs`; undefined when nothing can run now. `durationFactor` stretches
   * the step (fault injection "slow").
   */
  schedule(nowMs: number, durationFactor = 1): ScheduledStep | undefined {
    if (this.inFlight) throw new Error('schedule() called while a step is in flight');
    const { maxNumBatchedTokens, maxNumSeqs } = this.profile.scheduler;
    const blockSize = this.pool.blockSize;
    let budget = maxNumBatchedTokens;
    const chunks: ScheduledChunk[] = [];
    const preempted: string[] = [];

    for (let i = 0; i < this.running.length && budget > 0;) {
      const sequence = this.running[i];
      if (!sequence) break;
      const tokens = Math.min(sequence.numTokens - sequence.numComputed, budget);
      let fits = this.grow(sequence, sequence.numComputed + tokens);
      while (!fits) {
        const victim = this.running.pop();
        if (!victim) break;
        this.preempt(victim);
        preempted.push(victim.id);
        if (victim === sequence) break;
        fits = this.grow(sequence, sequence.numComputed + tokens);
      }
      if (!fits) break;
      chunks.push(this.chunk(sequence, tokens));
      budget -= tokens;
      i++;
    }

    if (preempted.length === 0) {
      while (budget > 0 && this.running.length < maxNumSeqs) {
        const sequence = this.waiting[0];
        if (!sequence || sequence.spec.readyAtMs > nowMs) break;
        // Waiting sequences hold no blocks (new, or preempted and released).
        const cached = this.cachedPrefix(sequence);
        const cachedTokens = cached.length * blockSize;
        const tokens = Math.min(sequence.numTokens - cachedTokens, budget);
        const needed = Math.ceil((cachedTokens + tokens) / blockSize) - cached.length;
        const cachedButFree = cached.filter((block) => this.pool.refCountOf(block) === 0).length;
        if (this.pool.freeBlocks - cachedButFree < needed) break;
        for (const block of cached) this.pool.acquireCached(block);
        const fresh = this.pool.allocate(needed) ?? [];
        sequence.blocks = [...cached, ...fresh];
        sequence.numComputed = cachedTokens;
        sequence.publishedBlocks = cached.length;
        if (!sequence.prefixCounted) {
          sequence.prefixCounted = true;
          this.counters.prefixCacheQueries += sequence.numTokens;
          this.counters.prefixCacheHits += cachedTokens;
        }
        this.waiting.shift();
        this.running.push(sequence);
        sequence.state = 'running';
        sequence.firstScheduledMs ??= nowMs;
        chunks.push(this.chunk(sequence, tokens));
        budget -= tokens;
      }
    }

    if (chunks.length === 0) {
      // Everything that ran was preempted: the freed blocks let the queue head in on a retry.
      return preempted.length > 0 ? this.schedule(nowMs, durationFactor) : undefined;
    }
    const shape = this.shapeOf(chunks);
    const step: ScheduledStep = {
      startMs: nowMs,
      durationMs: stepDurationMs(this.profile.timing, shape) * durationFactor,
      shape,
      chunks,
      preempted,
    };
    this.inFlight = step;
    return step;
  }

  /** Applies a scheduled step at its end: KV becomes computed and sequences sample tokens. */
  complete(step: ScheduledStep): StepOutputs {
    if (this.inFlight !== step)
      throw new Error('complete() called with a step that is not in flight');
    this.inFlight = undefined;
    this.counters.steps++;
    const endMs = step.startMs + step.durationMs;
    const blockSize = this.pool.blockSize;
    const emitted: EmittedToken[] = [];
    const finished: FinishedSequence[] = [];
    const timeToFirstTokenMs: number[] = [];
    const interTokenMs: number[] = [];
    let promptTokens = 0;
    let batchedTokens = 0;
    let anyFinished = false;

    for (const { sequence, tokens } of step.chunks) {
      if (sequence.state !== 'running') continue; // aborted while the step ran
      batchedTokens += tokens;
      sequence.numComputed += tokens;
      const full = Math.floor(sequence.numComputed / blockSize);
      for (let b = sequence.publishedBlocks; b < full; b++) {
        const block = sequence.blocks[b];
        if (block !== undefined) this.pool.markFull(block, sequence.blockHash(b));
      }
      sequence.publishedBlocks = Math.max(sequence.publishedBlocks, full);
      if (sequence.numComputed < sequence.numTokens) continue; // mid-prefill chunk

      const index = sequence.generated;
      sequence.generated++;
      if (index === 0) {
        sequence.firstTokenMs = endMs;
        timeToFirstTokenMs.push(endMs - sequence.spec.arrivalMs);
        promptTokens += sequence.promptLength;
      } else if (sequence.lastTokenMs !== undefined) {
        interTokenMs.push(endMs - sequence.lastTokenMs);
      }
      sequence.lastTokenMs = endMs;
      const last = sequence.generated >= sequence.targetOutput;
      emitted.push({ id: sequence.id, index, last });
      if (last) {
        anyFinished = true;
        sequence.state = 'finished';
        this.pool.release(sequence.blocks);
        sequence.blocks = [];
        this.byId.delete(sequence.id);
        finished.push({
          id: sequence.id,
          arrivalMs: sequence.spec.arrivalMs,
          firstScheduledMs: sequence.firstScheduledMs ?? step.startMs,
          firstTokenMs: sequence.firstTokenMs ?? endMs,
          endMs,
          promptTokens: sequence.promptLength,
          generatedTokens: sequence.generated,
          preemptions: sequence.preemptions,
        });
      }
    }
    if (anyFinished) this.running = this.running.filter((s) => s.state === 'running');
    this.counters.promptTokens += promptTokens;
    this.counters.generationTokens += emitted.length;
    return {
      endMs,
      emitted,
      finished,
      timeToFirstTokenMs,
      interTokenMs,
      promptTokens,
      generationTokens: emitted.length,
      batchedTokens,
    };
  }

  /** Makes sure `sequence` has blocks for `tokens` tokens; false (and no change) if they are not free. */
  private grow(sequence: Sequence, tokens: number): boolean {
    const needed = Math.ceil(tokens / this.pool.blockSize) - sequence.blocks.length;
    if (needed <= 0) return true;
    const blocks = this.pool.allocate(needed);
    if (!blocks) return false;
    sequence.blocks.push(...blocks);
    return true;
  }

  /** Preemption by recomputation: drop the KV (full blocks stay cached) and requeue at the head. */
  private preempt(sequence: Sequence): void {
    this.pool.release(sequence.blocks);
    sequence.blocks = [];
    sequence.numComputed = 0;
    sequence.publishedBlocks = 0;
    sequence.preemptions++;
    sequence.state = 'waiting';
    this.counters.preemptions++;
    this.waiting.unshift(sequence);
  }

  /** Cached blocks covering the longest prefix, leaving at least one token to compute. */
  private cachedPrefix(sequence: Sequence): number[] {
    const maxBlocks = Math.floor((sequence.numTokens - 1) / this.pool.blockSize);
    const blocks: number[] = [];
    for (let b = 0; b < maxBlocks; b++) {
      const block = this.pool.lookup(sequence.blockHash(b));
      if (block === undefined) break;
      blocks.push(block);
    }
    return blocks;
  }

  private chunk(sequence: Sequence, tokens: number): ScheduledChunk {
    const decode =
      tokens === 1 && sequence.generated > 0 && sequence.numComputed === sequence.numTokens - 1;
    return { sequence, tokens, computedBefore: sequence.numComputed, decode };
  }

  private shapeOf(chunks: readonly ScheduledChunk[]): StepShape {
    let prefillTokens = 0;
    let prefillAttentionPairs = 0;
    let decodeSeqs = 0;
    let decodeContextTokens = 0;
    for (const chunk of chunks) {
      if (chunk.decode) {
        decodeSeqs++;
        decodeContextTokens += chunk.computedBefore + 1;
      } else {
        prefillTokens += chunk.tokens;
        prefillAttentionPairs += chunk.tokens * (chunk.computedBefore + chunk.tokens / 2);
      }
    }
    return { prefillTokens, prefillAttentionPairs, decodeSeqs, decodeContextTokens };
  }
}
