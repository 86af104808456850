// Prefix-cache hit ratio with the router in front of three simulated shards, against round robin
// and least-connections over three equal shards, and against one shard with an unlimited cache
// (the ceiling), all in one run on the Mooncake FAST'25 conversation trace.
//
// Workload: the first ROWS rows of ../shared/traces/mooncake-fast25/conversation_trace.jsonl.
// Conversations are the trace's prefix chains, found as ../shared/traces/tools/mooncake_chains.py
// finds them (a row continues the row that last held its deepest leading block beyond block 0).
// Each row becomes one turn whose prompt is built from its hash_ids: block 0 (shared by every row)
// is the system prompt, the rest the user message, one fixed 512-token text per block id. Equal
// leading ids are equal leading tokens, so gpu-sim's prefix cache sees the trace's sharing. A
// continuation waits for the turn it continues; otherwise turns go in trace order, CONCURRENCY at
// a time. Replies are cut at MAX_TOKENS: the next turn's prompt comes from the trace, not from them.
//
// Modes, each on fresh gpu-sim + inference-adapter shards (default profile llama-3.1-8b-h100,
// 57,600 KV blocks of 16 tokens per shard):
// - router: ChatService.Converse through the router (turns keyed by their chain, stateless);
// - round-robin / least-connections: Inference.Generate straight to the shards, picked by the bench;
// - ceiling: one shard whose profile has an unlimited KV cache.
// The hit ratio is gpu-sim's own: vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total
// (tokens), summed over the mode's shards.
//
// Run: npx turbo run build --filter=@spillway/router... --filter=@spillway/inference-adapter... \
//        --filter=@spillway/shard-metadata... --filter=@spillway/gpu-sim... &&
//      npx tsc -p bench/tsconfig.build.json && npx node bench/dist/router-affinity.js
// Knobs: ROWS (1000), CONCURRENCY (8), MAX_TOKENS (16), TIME_SCALE (0.05: at 0.01 every wall
// millisecond the router, adapters and this process spend on a 2-core machine is 100 ms of engine
// time, so CPU contention, not the engines, decides queueing; the run is CPU-bound either way and
// takes about as long), ARRIVALS (closed, or trace: the trace's own timestamps), TRACE_RATE (1: with
// ARRIVALS=trace, the share of the trace's rate offered; 0.5 stretches every gap twofold, for a
// fleet sized above the trace's load rather than at it), BLOCK_TOKENS (512),
// SHARD_KV_BLOCKS (57600,230400: the three-shard modes run once per per-shard KV size; 57,600 is the
// profile's H100, the larger one shows routing with the capacity to keep conversations cached),
// FAILURE_AFTER_MS (5000: the registry's failure detection), MODES (all five: router,
// router-budgets-relaxed, round-robin, least-connections, ceiling; a subset prints its figures and
// leaves the results file alone), SPILL_LOG (a file for the routers' spill decisions: each spill
// placement proposed, taken or declined for its cost (docs/adr/0009), with the predicted first token
// at home and on the target, the cached depths, the recomputed tokens, the gain and the cost; and
// each spill taken as placed), MISS_LOG (a file for each router mode's miss attribution: where the
// blocks the ceiling hits were lost, moved or evicted, in a per-shard LRU model of the placements
// the router made, with counterfactual placements and each shard's own counters; see
// attributeMisses), TRACE_OFFSET (0: rows skipped before the ROWS replayed, for another window of
// the trace), BOUNDS_ONLY (1: start nothing, print the model's bounds on placement for each
// SHARD_KV_BLOCKS; see placementBounds). The router's own variables pass through the environment (e.g.
// SPILL_COST_RULE=off, PREFILL_ATTENTION_MS_PER_MILLION_PAIRS=0.95). Each KV size also gets a modelled
// capacity-matched oracle (see capacityMatchedOracle) for reference. Every mode also reports the
// engines' own TTFT p50/p90/p99 in engine time: what the spills buy for the cache they give up.
// Needs Kafka and PostgreSQL (the registry's). Writes bench/results/router-affinity.json.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { common, inference } from '@spillway/contracts';
import { createGrpcClient, type GrpcClient } from '@spillway/grpc';
import { freePort } from '@spillway/testing';
import {
  aTurn,
  converse,
  startRouterPlane,
  system,
  user,
  type PlaneShard,
  type RouterPlane,
} from '@spillway/router/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TRACE = `${root}../shared/traces/mooncake-fast25/conversation_trace.jsonl`;
const ROWS = Number(process.env.ROWS ?? 1_000);
/** Rows of the trace skipped before the ROWS replayed (another window of the same trace). */
const TRACE_OFFSET = Number(process.env.TRACE_OFFSET ?? 0);
if (!(Number.isInteger(TRACE_OFFSET) && TRACE_OFFSET >= 0))
  throw new Error(`TRACE_OFFSET must be a whole number of rows, got ${process.env.TRACE_OFFSET}`);
/** BOUNDS_ONLY=1: print placementBounds for each SHARD_KV_BLOCKS and start nothing. */
const BOUNDS_ONLY = process.env.BOUNDS_ONLY === '1';
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
/** closed: CONCURRENCY turns at a time; trace: the trace's timestamps (see replay). */
const ARRIVALS = process.env.ARRIVALS === 'trace' ? 'trace' : 'closed';
const TRACE_RATE = Number(process.env.TRACE_RATE ?? 1);
if (!(TRACE_RATE > 0))
  throw new Error(`TRACE_RATE must be a positive number, got ${process.env.TRACE_RATE}`);
const MAX_OUTSTANDING = Number(process.env.MAX_OUTSTANDING ?? 64);
const MAX_TOKENS = Number(process.env.MAX_TOKENS ?? 16);
const TIME_SCALE = Number(process.env.TIME_SCALE ?? 0.05);
const BLOCK_TOKENS = Number(process.env.BLOCK_TOKENS ?? 512);
const SHARD_KV_BLOCKS = (process.env.SHARD_KV_BLOCKS ?? '57600,230400')
  .split(',')
  .map((value) => Number(value.trim()))
  .filter((value) => value > 0);
/** Which modes run (router, router-budgets-relaxed, round-robin, least-connections, ceiling). */
const MODES = new Set(
  (process.env.MODES ?? 'router,router-budgets-relaxed,round-robin,least-connections,ceiling')
    .split(',')
    .map((mode) => mode.trim()),
);
const UNLIMITED_KV_BLOCKS = 4_000_000;
const FAILURE_AFTER_MS = Number(process.env.FAILURE_AFTER_MS ?? 5_000);
/** SPILL_LOG=<file>: run the routers at debug level and write their spill decisions there. */
const SPILL_LOG = process.env.SPILL_LOG;
/**
 * MISS_LOG=<file>: per router mode, where the cached blocks the ceiling hits and the router did not
 * were lost (see attributeMisses), and each shard's own prefix-cache and eviction counters.
 */
const MISS_LOG = process.env.MISS_LOG;
const SHARED_LEADING_BLOCKS = 1;

interface Row {
  readonly timestamp: number;
  readonly input_length: number;
  readonly hash_ids: readonly number[];
}

interface Turn {
  readonly index: number;
  /** When the trace saw it, ms from the first row. */
  readonly atMs: number;
  readonly chain: number;
  /** The row this one continues, or -1. */
  readonly parent: number;
  /** The row's trace blocks (BLOCK_TOKENS each), first block first. */
  readonly blocks: readonly number[];
  /** Leading blocks seen before in the trace: what the ceiling's cache can hit. */
  readonly ceilingBlocks: number;
  readonly messages: common.ChatMessage[];
}

// ---- workload ------------------------------------------------------------------------------------

function loadRows(): Row[] {
  return readFileSync(TRACE, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .slice(TRACE_OFFSET, TRACE_OFFSET + ROWS)
    .map((line) => JSON.parse(line) as Row);
}

/** mooncake_chains.py: parent = the last row holding the deepest leading block seen before. */
function chains(rows: readonly Row[]): {
  parent: number[];
  root: number[];
  /** Per row, the leading blocks seen before: what a cache that never evicts would hit. */
  shared: number[];
  idealHitRatio: number;
} {
  const lastOwner = new Map<number, number>();
  const parent: number[] = [];
  const rootOf: number[] = [];
  const sharedBlocks: number[] = [];
  let reused = 0;
  let total = 0;
  rows.forEach((row, i) => {
    let shared = 0;
    for (const block of row.hash_ids) {
      if (lastOwner.has(block)) shared++;
      else break;
    }
    const p =
      shared > SHARED_LEADING_BLOCKS ? (lastOwner.get(row.hash_ids[shared - 1] ?? -1) ?? -1) : -1;
    parent.push(p);
    rootOf.push(p >= 0 ? (rootOf[p] ?? i) : i);
    sharedBlocks.push(shared);
    reused += shared * BLOCK_TOKENS;
    total += row.hash_ids.length * BLOCK_TOKENS;
    for (const block of row.hash_ids) lastOwner.set(block, i);
  });
  return { parent, root: rootOf, shared: sharedBlocks, idealHitRatio: reused / total };
}

const WORDS = (() => {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const out: string[] = [];
  for (let i = 0; out.length < 4_096; i++) {
    let word = '';
    for (
      let n = i, length = 3 + (i % 6);
      word.length < length;
      n = Math.floor(n / 26) + 7 * word.length + 1
    )
      word += letters[n % 26];
    out.push(word);
  }
  return out;
})();

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/** BLOCK_TOKENS words, each one token for gpu-sim's tokenizer (" word", at most 10 letters). */
const blockTexts = new Map<number, string>();
function blockText(block: number): string {
  let text = blockTexts.get(block);
  if (text === undefined) {
    const words: string[] = [];
    for (let j = 0; j < BLOCK_TOKENS; j++)
      words.push(WORDS[mix(block, j) % WORDS.length] ?? 'word');
    text = ` ${words.join(' ')}`;
    blockTexts.set(block, text);
  }
  return text;
}

function turns(rows: readonly Row[]): { turns: Turn[]; idealHitRatio: number } {
  const { parent, root: rootOf, shared, idealHitRatio } = chains(rows);
  return {
    idealHitRatio,
    turns: rows.map((row, index) => {
      const [first, ...rest] = row.hash_ids;
      return {
        index,
        atMs: row.timestamp - (rows[0]?.timestamp ?? 0),
        chain: rootOf[index] ?? index,
        parent: parent[index] ?? -1,
        blocks: row.hash_ids,
        ceilingBlocks: shared[index] ?? 0,
        messages: [
          system(blockText(first ?? 0)),
          user(rest.length > 0 ? rest.map(blockText).join('') : ' hello'),
        ],
      };
    }),
  };
}

/**
 * A model, not a measurement: three LRU caches of `kvTokens` each at the trace's 512-token block
 * granularity, every row sent to the shard holding its longest cached prefix beyond the shared
 * block 0 (an oracle that knows every cache exactly), rows with no such shard in rotation; no
 * concurrency. What placement alone could reach with this much cache per shard, for comparing the
 * router with a bound that has the same capacity (the ceiling has an unlimited one).
 */
function capacityMatchedOracle(rows: readonly Row[], shards: number, kvTokens: number): number {
  const capacity = Math.max(1, Math.floor(kvTokens / BLOCK_TOKENS));
  const caches = Array.from({ length: shards }, () => new Map<number, true>());
  let hit = 0;
  let total = 0;
  let next = 0;
  for (const row of rows) {
    const depth = (cache: Map<number, true>): number => {
      let d = 0;
      while (d < row.hash_ids.length && cache.has(row.hash_ids[d] ?? -1)) d++;
      return d;
    };
    let best = -1;
    let bestDepth = SHARED_LEADING_BLOCKS;
    caches.forEach((cache, i) => {
      const d = depth(cache);
      if (d > bestDepth) [best, bestDepth] = [i, d];
    });
    const chosen = best >= 0 ? best : next++ % shards;
    const cache = caches[chosen] as Map<number, true>;
    hit += depth(cache);
    total += row.hash_ids.length;
    for (const block of row.hash_ids) {
      cache.delete(block);
      cache.set(block, true);
    }
    for (const block of cache.keys()) {
      if (cache.size <= capacity) break;
      cache.delete(block);
    }
  }
  return total > 0 ? hit / total : 0;
}

// ---- miss attribution (MISS_LOG) -----------------------------------------------------------------

/** One routed turn as its TurnStarted named it; `shard` undefined: the turn failed before a token. */
interface RoutedTurn {
  readonly turn: Turn;
  readonly shard: string | undefined;
  readonly reason: string;
}

/** Per shard, an LRU cache of trace blocks (tail released first, as gpu-sim does). */
class ShardCachesModel {
  private readonly caches = new Map<string, Map<number, true>>();
  readonly inserted = new Map<string, number>();

  constructor(private readonly capacityBlocks: number) {}

  size(shard: string): number {
    return this.caches.get(shard)?.size ?? 0;
  }

  /** The shard's `count` least recently used blocks, the next to be evicted. */
  *oldest(shard: string, count: number): Generator<number> {
    if (count <= 0) return;
    let n = 0;
    for (const block of this.caches.get(shard)?.keys() ?? []) {
      if (n++ >= count) return;
      yield block;
    }
  }

  depth(shard: string, blocks: readonly number[]): number {
    const cache = this.caches.get(shard);
    let depth = 0;
    while (cache !== undefined && depth < blocks.length && cache.has(blocks[depth] ?? -1)) depth++;
    return depth;
  }

  /** The turn's blocks become the shard's most recent; returns how many it had cached. */
  serve(shard: string, blocks: readonly number[]): number {
    const hit = this.depth(shard, blocks);
    let cache = this.caches.get(shard);
    if (cache === undefined) this.caches.set(shard, (cache = new Map<number, true>()));
    for (let i = blocks.length - 1; i >= 0; i--) {
      const block = blocks[i] ?? -1;
      cache.delete(block);
      cache.set(block, true);
    }
    for (const block of cache.keys()) {
      if (cache.size <= this.capacityBlocks) break;
      cache.delete(block);
    }
    this.inserted.set(shard, (this.inserted.get(shard) ?? 0) + blocks.length - hit);
    return hit;
  }
}

/** Gap buckets, in trace rows between a turn and the one it continues. */
function gapBucket(rows: number): string {
  if (rows < 300) return 'gap<300';
  if (rows < 600) return 'gap300-599';
  if (rows < 900) return 'gap600-899';
  return 'gap>=900';
}

/**
 * Where the blocks the ceiling hits and the router did not were lost, in a model: per shard an LRU
 * cache of the shard's KV size at the trace's block granularity, fed the turns the router sent
 * there in the order the bench sent them (no concurrency, no reply blocks). A continuation on
 * another shard than the turn it continues lost its context to the move (by placement reason); one
 * on the same shard lost what eviction took (by how many trace rows it came after its parent); a
 * failed turn lost all of it. The model's total is printed beside the engines' own, to say how far
 * to trust it. Counterfactuals replay the same order with other choices: every continuation on its
 * parent's shard (what moves cost), and new conversations in rotation or on the shard with the
 * fewest blocks written so far (what the choice of shard for new conversations costs).
 */
function attributeMisses(routed: readonly RoutedTurn[], kvTokens: number) {
  const capacity = Math.max(1, Math.floor(kvTokens / BLOCK_TOKENS));
  const model = new ShardCachesModel(capacity);
  const shardOf = new Map<number, string>();
  const lost: Record<string, number> = {};
  const perShard: Record<string, { turns: number; newConversations: number; hitBlocks: number }> =
    {};
  const worst: {
    turn: number;
    gapRows: number;
    shard: string;
    parentShard: string | undefined;
    reason: string;
    lostBlocks: number;
  }[] = [];
  let ceiling = 0;
  let hit = 0;
  let queried = 0;
  for (const { turn, shard, reason } of routed) {
    ceiling += turn.ceilingBlocks;
    queried += turn.blocks.length;
    if (shard === undefined) {
      lost.failed = (lost.failed ?? 0) + turn.ceilingBlocks;
      continue;
    }
    shardOf.set(turn.index, shard);
    const got = model.serve(shard, turn.blocks);
    hit += got;
    const entry = (perShard[shard] ??= { turns: 0, newConversations: 0, hitBlocks: 0 });
    entry.turns++;
    entry.hitBlocks += got;
    if (turn.parent < 0) entry.newConversations++;
    const missed = turn.ceilingBlocks - got;
    if (missed <= 0) continue;
    const parentShard = shardOf.get(turn.parent);
    const gap = gapBucket(turn.index - turn.parent);
    if (turn.parent < 0) {
      lost['first-turn'] = (lost['first-turn'] ?? 0) + missed;
    } else if (parentShard === undefined || parentShard === shard) {
      lost[`evicted:${gap}`] = (lost[`evicted:${gap}`] ?? 0) + missed;
    } else {
      // Moved: what the shard it left still held is the move's; what that shard had evicted too
      // would have been lost anyway.
      const heldAtHome = Math.max(
        got,
        Math.min(turn.ceilingBlocks, model.depth(parentShard, turn.blocks)),
      );
      const byMove = heldAtHome - got;
      if (byMove > 0) lost[`moved:${reason}`] = (lost[`moved:${reason}`] ?? 0) + byMove;
      if (missed > byMove) lost[`evicted:${gap}`] = (lost[`evicted:${gap}`] ?? 0) + missed - byMove;
    }
    if (turn.parent >= 0)
      worst.push({
        turn: turn.index,
        gapRows: turn.index - turn.parent,
        shard,
        parentShard,
        reason,
        lostBlocks: missed,
      });
  }
  worst.sort((a, b) => b.lostBlocks - a.lostBlocks);
  for (const [shard, inserted] of model.inserted)
    Object.assign(perShard[shard] ?? {}, { insertedBlocks: inserted });
  const shards = [...new Set(shardOf.values())].sort();
  const counterfactual = (choose: (turn: Turn, replay: ShardCachesModel) => string): number => {
    const replay = new ShardCachesModel(capacity);
    const home = new Map<number, string>();
    let hits = 0;
    for (const { turn, shard } of routed) {
      if (shard === undefined) continue;
      const target = home.get(turn.chain) ?? choose(turn, replay);
      home.set(turn.chain, target);
      hits += replay.serve(target, turn.blocks);
    }
    return hits / Math.max(1, ceiling);
  };
  let next = 0;
  return {
    ceilingBlocks: ceiling,
    queriedBlocks: queried,
    modelHitBlocks: hit,
    modelOfCeiling: hit / Math.max(1, ceiling),
    lostBlocks: lost,
    continuationsMissing: worst.length,
    largestMisses: worst.slice(0, 12),
    perShard,
    counterfactualOfCeiling: {
      // Each conversation stays on the shard of its first turn.
      noMoves: counterfactual((turn) => shardOf.get(turn.index) ?? shards[0] ?? ''),
      newInRotation: counterfactual(() => shards[next++ % shards.length] ?? ''),
      newOnFewestWritten: counterfactual(
        (_turn, replay) =>
          shards.reduce((best, shard) =>
            (replay.inserted.get(shard) ?? 0) < (replay.inserted.get(best) ?? 0) ? shard : best,
          ) ?? '',
      ),
    },
  };
}

/**
 * BOUNDS_ONLY: what placement alone could reach with this much KV per shard, in the model of
 * attributeMisses (per-shard LRU caches at the trace's block granularity, trace order, no
 * concurrency), as shares of the ceiling's blocks. Every conversation stays on the shard of its
 * first turn (moving one throws its context away); what varies is where new conversations go:
 * - rotation; the shard with the fewest blocks written so far (equal write rates, so equal LRU
 *   horizons);
 * - a greedy that knows the future: the shard whose eviction for the new prompt drops the fewest
 *   blocks the trace uses again (written blocks, weighted 1/1000 per block of the prompt, keep it
 *   balanced; without that term it piles conversations on one shard and does worse);
 * - for reference, one LRU cache as large as the three together.
 */
function placementBounds(workload: readonly Turn[], kvTokens: number, shards = 3) {
  const capacity = Math.max(1, Math.floor(kvTokens / BLOCK_TOKENS));
  const ceiling = workload.reduce((sum, turn) => sum + turn.ceilingBlocks, 0);
  const lastUse = new Map<number, number>();
  for (const turn of workload) for (const block of turn.blocks) lastUse.set(block, turn.index);
  const ids = Array.from({ length: shards }, (_, i) => `s${i}`);
  const sticky = (choose: (turn: Turn, model: ShardCachesModel) => string): number => {
    const model = new ShardCachesModel(capacity);
    const home = new Map<number, string>();
    let hits = 0;
    for (const turn of workload) {
      const shard = home.get(turn.chain) ?? choose(turn, model);
      home.set(turn.chain, shard);
      hits += model.serve(shard, turn.blocks);
    }
    return hits / Math.max(1, ceiling);
  };
  let next = 0;
  const written = (model: ShardCachesModel, shard: string) => model.inserted.get(shard) ?? 0;
  const fewestWritten = (model: ShardCachesModel) =>
    ids.reduce((best, id) => (written(model, id) < written(model, best) ? id : best));
  const futureAware = (turn: Turn, model: ShardCachesModel) => {
    const mean = ids.reduce((sum, id) => sum + written(model, id), 0) / shards;
    let best = ids[0] ?? '';
    let bestCost = Infinity;
    for (const id of ids) {
      let cost = 0.001 * (written(model, id) - mean) * turn.blocks.length;
      for (const block of model.oldest(id, model.size(id) + turn.blocks.length - capacity))
        if ((lastUse.get(block) ?? -1) > turn.index) cost++;
      if (cost < bestCost) [best, bestCost] = [id, cost];
    }
    return best;
  };
  const fleet = new ShardCachesModel(capacity * shards);
  let fleetHits = 0;
  for (const turn of workload) fleetHits += fleet.serve('fleet', turn.blocks);
  return {
    kvTokensPerShard: kvTokens,
    newInRotation: sticky(() => ids[next++ % shards] ?? ''),
    newOnFewestWritten: sticky((_turn, model) => fewestWritten(model)),
    newByFutureReuse: sticky(futureAware),
    oneCacheOfTheFleetsSize: fleetHits / Math.max(1, ceiling),
  };
}

// ---- replay ----------------------------------------------------------------------------------------

interface ModeResult {
  readonly shards: number;
  readonly turns: number;
  readonly failed: number;
  readonly wallMs: number;
  readonly promptTokensQueried: number;
  readonly promptTokensHit: number;
  readonly hitRatio: number;
  /** Engine-measured time to first token, engine-time milliseconds. */
  readonly ttftMs: { readonly p50: number; readonly p90: number; readonly p99: number };
  readonly placements?: Record<string, number>;
}

/**
 * ARRIVALS=closed (the default): trace order, CONCURRENCY at a time. ARRIVALS=trace: each turn at
 * its trace timestamp ÷ TRACE_RATE × TIME_SCALE, so the shards see the trace's own rate and bursts in engine
 * time, with at most MAX_OUTSTANDING turns open. Either way a continuation waits for the turn it
 * continues.
 */
async function replay(all: readonly Turn[], send: (turn: Turn) => Promise<void>) {
  return ARRIVALS === 'trace' ? replayOnTraceClock(all, send) : replayClosedLoop(all, send);
}

async function replayOnTraceClock(all: readonly Turn[], send: (turn: Turn) => Promise<void>) {
  const done: Promise<void>[] = [];
  const tally = { failed: 0 };
  let outstanding = 0;
  let freed: (() => void) | undefined;
  let late = 0;
  const started = performance.now();
  for (const turn of all) {
    const dueMs = started + (turn.atMs / TRACE_RATE) * TIME_SCALE;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    else if (waitMs < -100) late++;
    while (outstanding >= MAX_OUTSTANDING) await new Promise<void>((resolve) => (freed = resolve));
    outstanding++;
    startAfterParent(turn, done, send, tally, () => {
      outstanding--;
      freed?.();
      freed = undefined;
    });
  }
  await Promise.all(done);
  if (late > 0) process.stderr.write(`${late} turns sent over 100 ms late (the machine lagged)\n`);
  return { failed: tally.failed, wallMs: performance.now() - started, lateArrivals: late };
}

/** Trace order, CONCURRENCY at a time; a continuation waits for the turn it continues. */
async function replayClosedLoop(all: readonly Turn[], send: (turn: Turn) => Promise<void>) {
  const done: Promise<void>[] = [];
  const tally = { failed: 0 };
  let free = CONCURRENCY;
  const waiters: (() => void)[] = [];
  const acquire = async (): Promise<void> => {
    if (free > 0) {
      free--;
      return;
    }
    await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const release = (): void => {
    const next = waiters.shift();
    if (next) next();
    else free++;
  };
  const started = performance.now();
  for (const turn of all) {
    await acquire();
    startAfterParent(turn, done, send, tally, release);
  }
  await Promise.all(done);
  return { failed: tally.failed, wallMs: performance.now() - started };
}

/**
 * Sends `turn` once the turn it continues is done (as `done[turn.index]`); a failure is counted
 * and its first few printed, never thrown. `settled` runs either way.
 */
function startAfterParent(
  turn: Turn,
  done: Promise<void>[],
  send: (turn: Turn) => Promise<void>,
  tally: { failed: number },
  settled: () => void,
): void {
  const parentDone = turn.parent >= 0 ? done[turn.parent] : undefined;
  done[turn.index] = (async () => {
    try {
      await parentDone;
      await send(turn);
    } catch (error) {
      tally.failed++;
      if (tally.failed <= 3) process.stderr.write(`turn ${turn.index} failed: ${String(error)}\n`);
    } finally {
      settled();
    }
  })();
}

/** Each shard's own prefix-cache tokens and evicted blocks (gpu-sim's counters). */
async function shardCounters(shards: readonly PlaneShard[]) {
  const out: Record<string, { queried: number; hit: number; evictedBlocks: number }> = {};
  for (const shard of shards) {
    out[shard.id] = {
      queried: await shard.metric('vllm:prefix_cache_queries_total'),
      hit: await shard.metric('vllm:prefix_cache_hits_total'),
      evictedBlocks: await shard.metric('gpu_sim:kv_cache_evictions_total'),
    };
  }
  return out;
}

async function prefixCache(shards: readonly PlaneShard[]) {
  let queried = 0;
  let hit = 0;
  for (const shard of shards) {
    queried += await shard.metric('vllm:prefix_cache_queries_total');
    hit += await shard.metric('vllm:prefix_cache_hits_total');
  }
  return {
    promptTokensQueried: queried,
    promptTokensHit: hit,
    hitRatio: queried > 0 ? hit / queried : 0,
    ttftMs: await engineTtft(shards),
  };
}

/**
 * Time to first token as the engines measured it, in engine time (the profile's clock, not the
 * scaled wall clock): the mode's shards' `vllm:time_to_first_token_seconds` histograms merged,
 * quantiles interpolated inside their bucket as Prometheus does. What the spills buy.
 */
async function engineTtft(
  shards: readonly PlaneShard[],
): Promise<{ p50: number; p90: number; p99: number }> {
  const counts = new Map<number, number>();
  const bucket = /^vllm:time_to_first_token_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/;
  for (const shard of shards) {
    const text = await (await fetch(`${shard.gpuSimUrl}/metrics`)).text();
    for (const line of text.split('\n')) {
      const match = bucket.exec(line);
      if (match === null) continue;
      const le = match[1] === '+Inf' ? Infinity : Number(match[1]);
      counts.set(le, (counts.get(le) ?? 0) + Number(match[2]));
    }
  }
  const buckets = [...counts].sort(([a], [b]) => a - b);
  const total = buckets.at(-1)?.[1] ?? 0;
  const quantile = (q: number): number => {
    let lower = 0;
    let below = 0;
    for (const [le, count] of buckets) {
      if (count >= q * total) {
        const upper = Number.isFinite(le) ? le : lower;
        const share = count > below ? (q * total - below) / (count - below) : 0;
        return round((lower + (upper - lower) * share) * 1_000);
      }
      lower = le;
      below = count;
    }
    return NaN;
  };
  return { p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99) };
}

type InferenceClient = GrpcClient<typeof inference.InferenceDefinition>;

async function generate(client: InferenceClient, turn: Turn, model: string): Promise<void> {
  let completed = false;
  for await (const response of client.generate({
    requestId: `bench-${turn.index}`,
    conversationId: `chain-${turn.chain}`,
    tenantId: 'bench',
    model,
    messages: turn.messages,
    sampling: { maxTokens: MAX_TOKENS, stop: [] },
    priority: common.Priority.PRIORITY_STANDARD,
    resumeFromText: '',
  }))
    if (response.event?.$case === 'completed') completed = true;
  if (!completed) throw new Error('stream ended without completion');
}

/** The bench picks the shard (round robin or least connections) and calls the adapters itself. */
async function direct(
  plane: RouterPlane,
  shards: readonly PlaneShard[],
  all: readonly Turn[],
  pick: 'round-robin' | 'least-connections',
): Promise<ModeResult> {
  const clients = shards.map((shard) =>
    createGrpcClient(inference.InferenceDefinition, shard.adapterAddress, {
      defaultDeadlineMs: 600_000,
    }),
  );
  const open = shards.map(() => 0);
  let next = 0;
  const choose = (): number => {
    if (pick === 'round-robin') return next++ % shards.length;
    // Fewest open streams; ties in rotation, so idle shards share the load.
    let best = -1;
    for (let k = 0; k < shards.length; k++) {
      const i = (next + k) % shards.length;
      if (best < 0 || (open[i] ?? 0) < (open[best] ?? 0)) best = i;
    }
    next++;
    return Math.max(0, best);
  };
  const run = await replay(all, async (turn) => {
    const i = choose();
    open[i] = (open[i] ?? 0) + 1;
    try {
      await generate(clients[i] as InferenceClient, turn, plane.model);
    } finally {
      open[i] = (open[i] ?? 1) - 1;
    }
  });
  for (const client of clients) client.close();
  return { shards: shards.length, turns: all.length, ...run, ...(await prefixCache(shards)) };
}

function placements(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const match of text.matchAll(
    /^router_placements(?:_total)?\{reason="([a-z]+)"[^}]*\} ([0-9.e+]+)/gm,
  ))
    out[match[1] ?? '?'] = (out[match[1] ?? '?'] ?? 0) + Number(match[2]);
  // Spills placement proposed and the router kept home for their cost (ADR 0009).
  for (const match of text.matchAll(
    /^router_spills_declined(?:_total)?(?:\{[^}]*\})? ([0-9.e+]+)/gm,
  ))
    out['spill-declined'] = (out['spill-declined'] ?? 0) + Number(match[1]);
  return out;
}

/** The shipped 8B H100 profile with another KV cache size. */
function profileWithKv(dir: string, numBlocks: number): string {
  const shipped = JSON.parse(
    readFileSync(`${root}services/gpu-sim/profiles/llama-3.1-8b-h100.json`, 'utf8'),
  ) as { id: string; kvCache: { blockSizeTokens: number; numBlocks: number } };
  const id = `llama-3.1-8b-kv-${numBlocks}`;
  const path = join(dir, `${id}.json`);
  writeFileSync(
    path,
    JSON.stringify({ ...shipped, id, kvCache: { ...shipped.kvCache, numBlocks } }),
  );
  return path;
}

interface KvRun {
  readonly kvBlocksPerShard: number;
  readonly kvTokensPerShard: number;
  readonly modes: Record<string, ModeResult>;
}

/** Router, round robin and least connections, each on three fresh shards of one KV size. */
async function runKvSize(
  plane: RouterPlane,
  workload: readonly Turn[],
  kvBlocks: number,
  n: number,
  scratch: string,
): Promise<KvRun> {
  const profile = profileWithKv(scratch, kvBlocks);
  const shardSpec = (id: string, pool: string) => ({
    id,
    pool,
    maxInFlight: 64,
    timeScale: TIME_SCALE,
    profile,
  });
  const modes: Record<string, ModeResult> = {};

  // Router in front: its shards in a pool of their own, the only one the model routes to. Twice:
  // with the default first-token budgets, and with budgets so large that nothing spills. gpu-sim
  // reports latencies in engine time, and this closed-loop replay offers far more load per engine
  // second than the trace's 3.4 requests/s, so the default budgets make the router spill turns off
  // queued shards (protecting their first token, at the price of their cached prefix).
  const variants = [
    { mode: 'router', budgets: undefined },
    {
      mode: 'router-budgets-relaxed',
      budgets: 'critical=600000,high=600000,standard=600000,low=600000,batch=600000',
    },
  ];
  for (const [v, variant] of variants.entries()) {
    if (!MODES.has(variant.mode)) continue;
    const pool = `router-${n}-${v}`;
    plane.setModelRoutes({ models: { [plane.model]: { pools: [{ pool, weight: 1 }] } } });
    const routerShards = await Promise.all(
      ['a', 'b', 'c'].map((id) => plane.startShard(shardSpec(`${pool}-${id}`, pool))),
    );
    const metricsPort = await freePort();
    const router = await plane.startRouter({
      METRICS_PORT: String(metricsPort),
      RANDOM_SEED: '11',
      // The profile's prefill rate in engine time (llama-3.1-8b-h100: 0.0175 ms per prompt token),
      // the clock the shards' load reports use.
      PREFILL_TOKENS_PER_SECOND: String(Math.round(1_000 / 0.0175)),
      ...(variant.budgets === undefined ? {} : { TIER_TTFT_BUDGETS_MS: variant.budgets }),
      ...(SPILL_LOG === undefined ? {} : { LOG_LEVEL: 'debug' }),
    });
    const spills = SPILL_LOG === undefined ? undefined : collectSpills(router.process);
    // In the order sent; a turn's shard and reason once its TurnStarted arrives.
    const sent: { turn: Turn; shard: string | undefined; reason: string }[] = [];
    const routed = await replay(workload, async (turn) => {
      const record: (typeof sent)[number] = { turn, shard: undefined, reason: 'failed' };
      sent.push(record);
      const outcome = await converse(
        router.client,
        aTurn({
          tenantId: 'bench',
          conversationId: `${pool}-chain-${turn.chain}`,
          messages: turn.messages,
          stateless: true,
          model: plane.model,
          sampling: { maxTokens: MAX_TOKENS, stop: [] },
        }),
        {
          onStarted: (started) => {
            record.shard = started.shardId;
            record.reason = started.placementReason;
          },
        },
      );
      if (outcome.completed === undefined) throw new Error('no TurnCompleted');
    });
    const metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    modes[variant.mode] = {
      shards: 3,
      turns: workload.length,
      ...routed,
      ...(await prefixCache(routerShards)),
      placements: placements(metricsText),
    };
    report(`${variant.mode}, kv ${kvBlocks}`, modes[variant.mode] as ModeResult);
    if (MISS_LOG !== undefined) {
      const attribution = {
        mode: variant.mode,
        kvBlocksPerShard: kvBlocks,
        loadAverage1m: loadavg()[0],
        ...attributeMisses(sent, kvBlocks * 16),
        shards: await shardCounters(routerShards),
      };
      appendFileSync(MISS_LOG, `${JSON.stringify(attribution)}\n`);
      reportMisses(variant.mode, attribution, modes[variant.mode] as ModeResult);
    }
    if (spills !== undefined && SPILL_LOG !== undefined) {
      appendFileSync(
        SPILL_LOG,
        spills
          .stop()
          .map((line) => `${variant.mode} ${kvBlocks} ${line}\n`)
          .join(''),
      );
    }
    await router.stop();
    for (const shard of routerShards) await shard.stop();
  }

  for (const pick of ['round-robin', 'least-connections'] as const) {
    if (!MODES.has(pick)) continue;
    const shards = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        plane.startShard(shardSpec(`${pick}-${n}-${id}`, `${pick}-${n}`)),
      ),
    );
    modes[pick] = await direct(plane, shards, workload, pick);
    report(`${pick}, kv ${kvBlocks}`, modes[pick]);
    for (const shard of shards) await shard.stop();
  }
  return { kvBlocksPerShard: kvBlocks, kvTokensPerShard: kvBlocks * 16, modes };
}

/**
 * The router's debug lines about spills, read from its output as the run goes: "spill weighed"
 * for each spill placement proposed (taken or declined, with the gain, the recomputed tokens and
 * the cost behind the verdict), and "turn placed" for each one taken.
 */
function collectSpills(process: { output(): readonly string[] }): { stop(): string[] } {
  const seen = new Set<string>();
  const read = (): void => {
    for (const line of process.output())
      if (line.includes('"reason":"spill"') || line.includes('spill weighed')) seen.add(line);
  };
  const timer = setInterval(read, 200);
  return {
    stop: () => {
      clearInterval(timer);
      read();
      return [...seen];
    },
  };
}

// ---- main ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const rows = loadRows();
  const workload = turns(rows);
  const chainSizes = new Map<number, number>();
  for (const turn of workload.turns)
    chainSizes.set(turn.chain, (chainSizes.get(turn.chain) ?? 0) + 1);
  const promptTokens = rows.reduce((sum, row) => sum + row.hash_ids.length * BLOCK_TOKENS, 0);
  const multiTurn = [...chainSizes.values()].filter((n) => n > 1).length;
  process.stderr.write(
    `${rows.length} rows, ${chainSizes.size} chains (${multiTurn} multi-turn), ${promptTokens} prompt tokens\n`,
  );
  if (BOUNDS_ONLY) {
    const bounds = SHARD_KV_BLOCKS.map((blocks) => placementBounds(workload.turns, blocks * 16));
    process.stdout.write(
      `${JSON.stringify({ rows: rows.length, offset: TRACE_OFFSET, bounds }, null, 2)}\n`,
    );
    return;
  }
  const loadBefore = loadavg()[0];
  const scratch = mkdtempSync(join(tmpdir(), 'router-affinity-'));
  // The registry and the reference simulator; every mode starts shards of its own.
  // Failure detection at the registry's default order (not the failover bench's 600 ms): on a
  // shared machine a shard starved of CPU for a moment would otherwise be declared failed and its
  // conversations failed over, which measures the machine, not placement. Failovers still count
  // (placements.failover).
  const plane = await startRouterPlane({
    shards: [],
    model: 'bench-llama',
    registryEnv: { FAILURE_AFTER_MS: String(FAILURE_AFTER_MS) },
  });
  const runs: KvRun[] = [];
  let ceiling: ModeResult | undefined;
  try {
    for (const [n, kvBlocks] of SHARD_KV_BLOCKS.entries())
      runs.push(await runKvSize(plane, workload.turns, kvBlocks, n, scratch));
    if (MODES.has('ceiling')) {
      const ceilingShard = await plane.startShard({
        id: 'ceiling',
        pool: 'ceiling',
        maxInFlight: 64,
        timeScale: TIME_SCALE,
        profile: profileWithKv(scratch, UNLIMITED_KV_BLOCKS),
      });
      ceiling = await direct(plane, [ceilingShard], workload.turns, 'round-robin');
      report('ceiling (one shard, unlimited KV)', ceiling);
    }
  } finally {
    await plane.close();
    rmSync(scratch, { recursive: true, force: true });
  }

  const ceilingRatio = ceiling?.hitRatio ?? 0;
  const compare = (modes: Record<string, ModeResult>) => {
    const of = (mode: string) => modes[mode]?.hitRatio ?? 0;
    return {
      routerOfCeiling: ceilingRatio > 0 ? of('router') / ceilingRatio : null,
      routerBudgetsRelaxedOfCeiling:
        ceilingRatio > 0 ? of('router-budgets-relaxed') / ceilingRatio : null,
      routerOverRoundRobin: of('round-robin') > 0 ? of('router') / of('round-robin') : null,
      routerOverLeastConnections:
        of('least-connections') > 0 ? of('router') / of('least-connections') : null,
    };
  };
  const output = {
    benchmark: 'router-affinity',
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim(),
    loadAverage1m: { before: loadBefore, after: loadavg()[0] },
    trace: {
      file: 'mooncake-fast25/conversation_trace.jsonl',
      rows: rows.length,
      chains: chainSizes.size,
      multiTurnChains: multiTurn,
      continuationRows: workload.turns.filter((turn) => turn.parent >= 0).length,
      promptTokens,
      idealHitRatio512TokenBlocks: workload.idealHitRatio,
    },
    settings: {
      registryFailureAfterMs: FAILURE_AFTER_MS,
      arrivals: ARRIVALS,
      concurrency: ARRIVALS === 'closed' ? CONCURRENCY : undefined,
      maxOutstanding: ARRIVALS === 'trace' ? MAX_OUTSTANDING : undefined,
      traceRate: ARRIVALS === 'trace' ? TRACE_RATE : undefined,
      maxTokens: MAX_TOKENS,
      timeScale: TIME_SCALE,
      blockTokens: BLOCK_TOKENS,
      shardsPerMode: 3,
      profile: 'llama-3.1-8b-h100 timing; KV blocks of 16 tokens, per run as listed',
      ceilingKvBlocks: UNLIMITED_KV_BLOCKS,
    },
    method:
      'gpu-sim prefix-cache counters (tokens) summed over each mode’s fresh shards; router mode through ChatService.Converse (stateless turns keyed by chain), baselines straight to Inference.Generate with the bench choosing the shard; ceiling: the same turns on one shard with an unlimited KV cache.',
    ceiling,
    runs: runs.map((run) => {
      const modelled = capacityMatchedOracle(rows, 3, run.kvTokensPerShard);
      return {
        ...run,
        ...compare(run.modes),
        capacityMatchedOracleModelled: {
          hitRatio: modelled,
          ofCeiling: ceilingRatio > 0 ? modelled / ceilingRatio : null,
        },
      };
    }),
  };
  // A partial run (MODES) or another window (TRACE_OFFSET) prints its figures but leaves the
  // recorded results alone.
  if (MODES.size === 5 && SHARD_KV_BLOCKS.length === 2 && TRACE_OFFSET === 0)
    writeFileSync(
      `${root}bench/results/router-affinity.json`,
      `${JSON.stringify(output, null, 2)}\n`,
    );
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
}

function report(mode: string, result: ModeResult): void {
  const ttft = result.ttftMs;
  const placed = result.placements;
  const spills =
    placed === undefined
      ? ''
      : `, spills ${placed.spill ?? 0} taken / ${placed['spill-declined'] ?? 0} declined for cost`;
  process.stderr.write(
    `${mode}: hit ratio ${(result.hitRatio * 100).toFixed(1)}% (${result.promptTokensHit}/${result.promptTokensQueried}), engine TTFT p50 ${ttft.p50} / p90 ${ttft.p90} / p99 ${ttft.p99} ms${spills}, ${result.failed} failed, ${(result.wallMs / 1000).toFixed(1)} s\n`,
  );
}

/** One line per router mode: the model against the engines, and where the blocks were lost. */
function reportMisses(
  mode: string,
  attribution: ReturnType<typeof attributeMisses>,
  result: ModeResult,
): void {
  const percent = (ratio: number) => `${(ratio * 100).toFixed(2)} %`;
  const engines = result.promptTokensHit / (attribution.ceilingBlocks * BLOCK_TOKENS);
  const lost = Object.entries(attribution.lostBlocks)
    .sort(([, a], [, b]) => b - a)
    .map(([cause, blocks]) => `${cause} ${blocks}`)
    .join(', ');
  const whatIf = attribution.counterfactualOfCeiling;
  process.stderr.write(
    `${mode} misses (${BLOCK_TOKENS}-token blocks; ${MISS_LOG} has the detail): the model hits ${percent(attribution.modelOfCeiling)} of the ceiling's ${attribution.ceilingBlocks} blocks (engines: ${percent(engines)}); lost: ${lost}; same order, no moves ${percent(whatIf.noMoves)}, new conversations in rotation ${percent(whatIf.newInRotation)}, on the shard with the fewest blocks written ${percent(whatIf.newOnFewestWritten)}\n`,
  );
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `router-affinity failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  },
);
