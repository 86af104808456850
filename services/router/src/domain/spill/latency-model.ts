import type { ShardView } from '../placement/shard-view.js';
import { cachedPrefixTokens, VLLM_BLOCK_TOKENS } from '../prefix/prefix-blocks.js';
import type { ReplyLengthEstimate } from './reply-length.js';

/**
 * How long a turn would wait for its first token on a shard, from the shard's last load report.
 *
 * The shard serves `concurrency` turns at once and each holds its slot for about one turn's service
 * time (recent TTFT plus a typical reply at the recent inter-token latency). A turn starts at once
 * if a slot is free; otherwise it waits for enough slot releases to reach it. Then it prefills the
 * tokens the shard does not have cached. Rough on purpose: it runs for every turn and only has to
 * tell "fits the budget" from "clearly does not".
 */
export interface LatencyModelConfig {
  /**
   * Typical reply length: how long a turn keeps its slot after the first token. The prior when
   * `replyLength` is set.
   */
  readonly expectedOutputTokens: number;
  /** Reply length learned from finished turns (see reply-length.ts); replaces the prior. */
  readonly replyLength?: ReplyLengthEstimate | undefined;
  /** Used until a shard reports latencies of its own. */
  readonly defaultTtftMs: number;
  readonly defaultItlMs: number;
  readonly defaultPrefillTokensPerSecond: number;
  /**
   * Attention's share of a prefill, milliseconds per million query·key pairs (a prompt of n tokens
   * after c cached ones computes (n² − c²) / 2 pairs), at the default prefill rate; a shard that
   * states a faster rate is taken to be that much faster here too. Absent or 0: prefill is linear in
   * the tokens, as before. Long prompts need it: on the 8B H100 profile (0.95 ms per million pairs,
   * 0.0175 ms per token) recomputing a 17 k-token context takes 435 ms, not 298, and a 100 k-token
   * prompt 6.5 s, not 1.75.
   */
  readonly prefillAttentionMsPerMillionPairs?: number | undefined;
  /** Tokens per prefix block, to turn matched blocks into cached tokens (16 like vLLM and gpu-sim). */
  readonly tokensPerBlock: number;
}

export const DEFAULT_LATENCY_MODEL: LatencyModelConfig = {
  expectedOutputTokens: 256,
  defaultTtftMs: 200,
  defaultItlMs: 20,
  defaultPrefillTokensPerSecond: 10_000,
  tokensPerBlock: VLLM_BLOCK_TOKENS,
};

export interface TurnShape {
  readonly promptTokens: number;
  /** Leading prompt blocks the shard has cached. */
  readonly cachedBlocks: number;
  /** Turns already waiting in the router's own queue for this shard that would go first. */
  readonly queuedAhead: number;
}

export interface LatencyPrediction {
  readonly queueWaitMs: number;
  readonly prefillMs: number;
  readonly ttftMs: number;
}

/**
 * Milliseconds one turn keeps a slot busy: its first token, less the time it waited in the
 * engine's queue for the slot, then a typical reply. The queue share must come out: a saturated
 * shard's TTFT is mostly queueing, and counting it as service time would predict a longer wait the
 * longer the queue already is, and spill conversations off shards that are about to free up.
 * Engines that do not report their queue time leave TTFT whole (an overestimate, as before).
 */
export function turnServiceMs(shard: ShardView, config: LatencyModelConfig): number {
  const { ttftMsP50, queueTimeMsP50, itlMsP50 } = shard.load;
  const ttft = ttftMsP50 > 0 ? Math.max(0, ttftMsP50 - queueTimeMsP50) : config.defaultTtftMs;
  const itl = itlMsP50 > 0 ? itlMsP50 : config.defaultItlMs;
  return Math.max(1, ttft + itl * expectedReplyTokens(config));
}

export function expectedReplyTokens(config: LatencyModelConfig): number {
  return config.replyLength?.tokens() ?? config.expectedOutputTokens;
}

/** KV-cache use from which an engine that queues requests is taken to be out of KV blocks. */
export const KV_BOUND_USAGE = 0.9;

/**
 * Turns the shard runs at once: its admission bound, or what it is actually running when the
 * engine queues for want of KV blocks (it then runs fewer than the bound until a sequence ends).
 * An engine that queues with KV to spare is prefill-bound: its queue is the prefill backlog.
 */
export function shardConcurrency(shard: ShardView): number {
  const slots = Math.max(1, shard.capacity.maxInFlight);
  const { running, waiting, kvCacheUsage } = shard.load;
  const kvBound = waiting > 0 && running > 0 && kvCacheUsage >= KV_BOUND_USAGE;
  return kvBound ? Math.min(slots, running) : slots;
}

/** Turns per second the shard starts when it is saturated. */
export function drainRatePerSecond(shard: ShardView, config: LatencyModelConfig): number {
  return (shardConcurrency(shard) * 1_000) / turnServiceMs(shard, config);
}

export function predictLatency(
  shard: ShardView,
  turn: TurnShape,
  config: LatencyModelConfig,
): LatencyPrediction {
  const queueWaitMs = predictQueueWaitMs(shard, turn.queuedAhead, config);
  const prefillMs = predictPrefillMs(shard, turn.promptTokens, turn.cachedBlocks, config);
  return { queueWaitMs, prefillMs, ttftMs: queueWaitMs + prefillMs };
}

/**
 * The wait before the turn's own prefill, the first part of predictLatency: for a stream slot
 * (or KV blocks), or for the prefills ahead of it, whichever is longer. The two overlap: a slot
 * frees only once its turn's prefill is long done.
 */
export function predictQueueWaitMs(
  shard: ShardView,
  queuedAhead: number,
  config: LatencyModelConfig,
): number {
  return Math.max(slotWaitMs(shard, queuedAhead, config), shard.load.prefillBacklogMs);
}

/** Slot releases the turn needs, each one service time apart per slot. */
function slotWaitMs(shard: ShardView, queuedAhead: number, config: LatencyModelConfig): number {
  const concurrency = shardConcurrency(shard);
  const inSystem = shard.load.inFlight + queuedAhead;
  const releasesNeeded = inSystem - concurrency + 1;
  return releasesNeeded > 0 ? (releasesNeeded * turnServiceMs(shard, config)) / concurrency : 0;
}

/**
 * The prefill of what the shard has not cached: the second part of predictLatency. Never grows
 * with `cachedBlocks`, so a cached depth that is too high gives a lower bound.
 */
export function predictPrefillMs(
  shard: ShardView,
  promptTokens: number,
  cachedBlocks: number,
  config: LatencyModelConfig,
): number {
  const rate = shard.capacity.prefillTokensPerSecond ?? config.defaultPrefillTokensPerSecond;
  return predictPrefillAtRateMs(rate, promptTokens, cachedBlocks, config);
}

/**
 * predictPrefillMs on a shard that prefills `rate` tokens per second. Never grows with `rate`
 * either, so the fastest rate of several shards gives a lower bound for all of them.
 */
export function predictPrefillAtRateMs(
  rate: number,
  promptTokens: number,
  cachedBlocks: number,
  config: LatencyModelConfig,
): number {
  const cachedTokens = cachedPrefixTokens(cachedBlocks, promptTokens, config.tokensPerBlock);
  const linearMs = ((promptTokens - cachedTokens) * 1_000) / Math.max(1, rate);
  const attention = config.prefillAttentionMsPerMillionPairs;
  if (attention === undefined || !(attention > 0)) return linearMs;
  // Each new token attends to every token before it: Σ over the uncached tokens of their position.
  const pairs = (promptTokens * promptTokens - cachedTokens * cachedTokens) / 2;
  const speedup = Math.max(1, rate) / Math.max(1, config.defaultPrefillTokensPerSecond);
  return linearMs + (attention * pairs) / 1e6 / speedup;
}
