// Prefix-cache hit ratio of gpu-sim on a real trace: the Mooncake FAST'25 conversation trace
// (../shared/traces/mooncake-fast25/conversation_trace.jsonl) replayed into ONE gpu-sim, compared
// with the statistic computed from the trace's own 512-token block hashes.
//
// Each trace hash id h becomes a fixed run of 512 token ids, so equal hash ids give equal blocks
// and the simulator's chained 16-token block hashes reproduce exactly the trace's prefix sharing.
// A request's prompt is the concatenation of its blocks, cut to input_length. Requests are sent
// at their trace timestamps × time scale (open loop) as /v1/completions with token-id prompts and
// max_tokens = output_length (ignore_eos), and the ratio is read from gpu-sim's own
// vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total (tokens, like vLLM).
//
// Bounded: the first ROWS rows (about ROWS / 3.4 s of the trace) at TIME_SCALE.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  metric,
  readProfile,
  round,
  scrape,
  sleep,
  startGpuSim,
  writeResult,
  REPO,
} from './gpu-sim-harness.js';

const ROWS = Number(process.env.ROWS ?? 2000);
const TIME_SCALE = Number(process.env.TIME_SCALE ?? 0.05);
const PROFILE = process.env.PROFILE ?? 'llama-3.1-8b-h100';
const TRACE_BLOCK = 512;
const TRACE = join(REPO, '../shared/traces/mooncake-fast25/conversation_trace.jsonl');

interface TraceRow {
  readonly timestamp: number;
  readonly input_length: number;
  readonly output_length: number;
  readonly hash_ids: readonly number[];
}

const rows: TraceRow[] = readFileSync(TRACE, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .slice(0, ROWS)
  .map((line) => JSON.parse(line) as TraceRow);

/** Trace statistic: blocks (and tokens) whose hash id was seen in an earlier request, infinite cache. */
function traceReuse(rows: readonly TraceRow[]): { blocks: number; tokens: number } {
  const seen = new Set<number>();
  let blocks = 0;
  let reusedBlocks = 0;
  let tokens = 0;
  let reusedTokens = 0;
  for (const row of rows) {
    row.hash_ids.forEach((h, i) => {
      const size = Math.min(TRACE_BLOCK, row.input_length - i * TRACE_BLOCK);
      blocks++;
      tokens += size;
      if (seen.has(h)) {
        reusedBlocks++;
        reusedTokens += size;
      }
    });
    for (const h of row.hash_ids) seen.add(h);
  }
  return { blocks: reusedBlocks / blocks, tokens: reusedTokens / tokens };
}

/**
 * The same statistic with a finite LRU cache of `capacityBlocks` 512-token blocks (what a server
 * with that much KV cache could keep at best, ignoring blocks pinned by running requests).
 */
function traceReuseLru(rows: readonly TraceRow[], capacityBlocks: number): number {
  const lru = new Map<number, true>();
  let tokens = 0;
  let reused = 0;
  for (const row of rows) {
    row.hash_ids.forEach((h, i) => {
      const size = Math.min(TRACE_BLOCK, row.input_length - i * TRACE_BLOCK);
      tokens += size;
      if (lru.has(h)) {
        reused += size;
        lru.delete(h);
      }
      lru.set(h, true);
      while (lru.size > capacityBlocks) lru.delete(lru.keys().next().value!);
    });
  }
  return reused / tokens;
}

function promptOf(row: TraceRow): number[] {
  const ids: number[] = [];
  for (const h of row.hash_ids) {
    const base = 1000 + h * TRACE_BLOCK;
    for (let j = 0; j < TRACE_BLOCK && ids.length < row.input_length; j++) ids.push(base + j);
  }
  return ids;
}

const profile = readProfile(PROFILE) as { kvCache: { numBlocks: number; blockSizeTokens: number } };
const kvTokens = profile.kvCache.numBlocks * profile.kvCache.blockSizeTokens;
const infinite = traceReuse(rows);
const lruAtCapacity = traceReuseLru(rows, Math.floor(kvTokens / TRACE_BLOCK));

interface Replay {
  readonly kvCacheTokens: number;
  readonly completed: number;
  readonly failures: number;
  readonly connectRetries: number;
  readonly wallSeconds: number;
  readonly prefixCacheQueriesTokens: number;
  readonly prefixCacheHitsTokens: number;
  readonly hitRatio: number;
  readonly preemptions: number;
  readonly evictedBlocks: number;
}

async function replay(profileArg: string, kvCacheTokens: number): Promise<Replay> {
  const sim = await startGpuSim(['--profile', profileArg, '--time-scale', String(TIME_SCALE)]);
  const started = performance.now();
  let failures = 0;
  let retries = 0;
  let completed = 0;
  const t0 = rows[0]!.timestamp;
  const inflight: Promise<void>[] = [];
  for (const row of rows) {
    const due = started + (row.timestamp - t0) * TIME_SCALE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const send = async (attempt: number): Promise<void> => {
      try {
        const response = await fetch(`${sim.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            prompt: promptOf(row),
            max_tokens: Math.max(1, row.output_length),
            ignore_eos: true,
          }),
        });
        if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
        await response.arrayBuffer();
        completed++;
      } catch (error) {
        const code = ((error as { cause?: { code?: string } }).cause ?? {}).code;
        // A connection that never reached the server (a loaded machine) is retried; anything else counts.
        if ((code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNREFUSED') && attempt < 3) {
          retries++;
          return send(attempt + 1);
        }
        failures++;
        if (failures <= 3) console.error(String(error), code);
      }
    };
    inflight.push(send(0));
  }
  await Promise.all(inflight);
  const wallSeconds = (performance.now() - started) / 1000;
  const metrics = await scrape(sim.url);
  await sim.stop();
  const queries = metric(metrics, 'vllm:prefix_cache_queries_total');
  const hits = metric(metrics, 'vllm:prefix_cache_hits_total');
  return {
    kvCacheTokens,
    completed,
    failures,
    connectRetries: retries,
    wallSeconds: round(wallSeconds, 1),
    prefixCacheQueriesTokens: queries,
    prefixCacheHitsTokens: hits,
    hitRatio: round(hits / queries, 4),
    preemptions: metric(metrics, 'vllm:num_preemptions_total'),
    evictedBlocks: metric(metrics, 'gpu_sim:kv_cache_evictions_total'),
  };
}

const t0 = rows[0]!.timestamp;
const shipped = await replay(PROFILE, kvTokens);
if (process.env.ONLY_SHIPPED === '1') {
  console.log(JSON.stringify({ shipped }));
  process.exit(0);
}
console.log(JSON.stringify({ shipped }));
// The same replay with a KV cache larger than every token of the subset: nothing is ever evicted,
// so the simulator should reproduce the trace's infinite-cache statistic (up to 16-token blocks).
const totalTokens = rows.reduce((n, r) => n + r.input_length + r.output_length, 0);
const unboundedBlocks = Math.ceil((totalTokens * 1.1) / profile.kvCache.blockSizeTokens);
const unboundedPath = join(tmpdir(), `gpu-sim-prefix-unbounded-${process.pid}.json`);
writeFileSync(
  unboundedPath,
  JSON.stringify({
    ...readProfile(PROFILE),
    id: `${PROFILE}-unbounded-kv`,
    kvCache: { blockSizeTokens: 16, numBlocks: unboundedBlocks },
  }),
);
const unbounded = await replay(unboundedPath, unboundedBlocks * profile.kvCache.blockSizeTokens);
unlinkSync(unboundedPath);
console.log(JSON.stringify({ unbounded }));

const result = {
  bench: 'gpu-sim-prefix',
  when: new Date().toISOString(),
  trace: 'mooncake-fast25/conversation_trace.jsonl',
  bounded: {
    rows: rows.length,
    traceSeconds: round((rows.at(-1)!.timestamp - t0) / 1000, 1),
    timeScale: TIME_SCALE,
  },
  profile: PROFILE,
  gpuSim: { shippedProfile: shipped, unboundedKvCache: unbounded },
  traceStatistic: {
    reusedBlocksInfiniteCache: round(infinite.blocks, 4),
    reusedTokensInfiniteCache: round(infinite.tokens, 4),
    reusedTokensLruAtSimulatorCapacity: round(lruAtCapacity, 4),
    fullTraceFromStatsFile: { reusedBlocks: 0.366, reusedTokens: 0.3736 },
  },
  notes: [
    'gpu-sim counts like vLLM: queried tokens = prompt tokens at first scheduling, hits = tokens in cached full 16-token blocks, capped at prompt length − 1.',
    'The trace statistic counts 512-token blocks (and their tokens) whose hash id appeared in an earlier request.',
    'The LRU figure is the trace statistic with a cache of the simulator KV size in 512-token blocks; the simulator holds fewer reusable blocks because running requests (prompt and generated tokens) occupy part of the cache, but it also caches generated tokens and evicts per 16-token block.',
    'The unbounded run uses the same profile with a KV cache larger than all tokens of the subset (a temporary profile file), so it checks the prefix-cache mechanics against the infinite-cache statistic.',
  ],
};
const path = writeResult('gpu-sim-prefix', result);
console.log(JSON.stringify(result, null, 2));
console.log(`wrote ${path}`);
