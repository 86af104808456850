// Cost of one placement decision with 1,000 shards, and router memory per conversation assignment
// at 1,000,000 conversations. Pure CPU and heap: no services, no broker.
//
// Shards carry realistic load reports and recent-prefix sets in the shards' own scheme (16-token
// blocks, at most 1,024 recent hashes, deepest block of each served prompt first); prompt lengths are
// drawn from the Mooncake conversation trace (../shared/traces) when it is there. The turn mix is
// the trace's: about 39 % continue a conversation, the rest start one. Decisions run with the default
// configuration (prefix-aware sampled candidates) and, for comparison, scoring every shard.
//
// Run: npx tsc -p services/router/tsconfig.build.json && npx tsc -p bench/tsconfig.build.json &&
//      npx node --expose-gc bench/dist/placement-decision.js
// Writes bench/results/placement-decision.json. Knobs: TRIALS (3 runs of the default pipeline, each
// on a fresh plane), DECISIONS, WARMUP, SAMPLE_EVERY, QUICK=1 (only those trials, nothing written),
// COMPARE_WITH=<another build's dist/domain/index.js> (only: decide a seeded workload with both
// builds, several configurations, and compare every decision field by field; exit 1 on a mismatch;
// then with COMPARE_PASSES=n time both builds interleaved in this process, COMPARE_CLOCK=wall for
// wall-clock time, COMPARE_CHECK=0 to skip the comparison).
// PROMPTS=hot (default) reads each request's prompt blocks, untimed, just before its decision, as
// the router has just hashed them; PROMPTS=cold decides them as built (sessions 1–5). TAIL=1 prints
// what the slowest 1 % of decisions were.
// Each run reports, besides the percentiles, the decisions without a GC, the least time each request
// took over the passes, a fixed workload timed after every decision, and the load average.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as thisDomain from '@spillway/router/domain';
import {
  AssignmentView,
  DEFAULT_PLACEMENT_CONFIG,
  PlacementPipeline,
  ReplyLengthTracker,
  seededRandom,
  type PlacementConfig,
  type PlacementDecision,
  type PlacementRequest,
  type PriorityTier,
  type Random,
  type ShardDirectory,
  type ShardView,
} from '@spillway/router/domain';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHARDS = Number(process.env.SHARDS ?? 1_000);
const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 1_000_000);
const DECISIONS = Number(process.env.DECISIONS ?? 100_000);
const WARMUP = Number(process.env.WARMUP ?? 20_000);
const TIME_LIMIT_MS = Number(process.env.TIME_LIMIT_MS ?? 60_000);
/** Runs of the default pipeline, each on a fresh plane. */
const TRIALS = Number(process.env.TRIALS ?? 3);
const BLOCK_TOKENS = 16;
/** The directory keeps one recent block hash in this many (1 = every block). */
const SAMPLE_EVERY = Number(process.env.SAMPLE_EVERY ?? 8);
const RECENT_BLOCKS = 1_024;
const SYSTEM_PROMPT_BLOCKS = 32;
const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const MAX_IN_FLIGHT = 32;
/**
 * `hot` (default): each request's prompt blocks are read just before its decision, as they are in
 * the router, which computes them for the turn right before placing it. `cold`: as built, 20,000
 * requests ago (sessions 1–5 measured this way).
 */
const PROMPTS = process.env.PROMPTS ?? 'hot';
if (PROMPTS !== 'hot' && PROMPTS !== 'cold')
  throw new Error(`PROMPTS must be hot or cold, got ${PROMPTS}`);
const HOT_PROMPTS = PROMPTS === 'hot';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run node with --expose-gc');

/** The workload's randomness; reseeded to build the same plane twice (COMPARE_WITH). */
let random = seededRandom(20_250_101);

// ---- workload ----------------------------------------------------------------------------------

function promptTokenSampler(): () => number {
  const path = `${root}../shared/traces/mooncake-fast25/conversation_trace.jsonl`;
  if (existsSync(path)) {
    const lengths = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => (JSON.parse(line) as { input_length: number }).input_length);
    return () => lengths[Math.floor(random.next() * lengths.length)] ?? 4_096;
  }
  // Log-normal around the trace's median (6,909 tokens) when the trace is absent.
  return () => Math.round(Math.exp(Math.log(6_909) + 1.1 * gaussian(random)));
}

function gaussian(r: Random): number {
  return Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
}

/** 53-bit-looking chained block ids: a shared system prompt, then the conversation's own blocks. */
function conversationBlocks(conversation: number, blocks: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < blocks; i++) {
    out.push(i < SYSTEM_PROMPT_BLOCKS ? 1_000 + i : conversation * 8_192 + i + 1_000_000);
  }
  return out;
}

/** The adapter's rememberPrefixBlocks: deepest block of each newly served prompt first, bounded. */
function remember(recent: number[], served: readonly number[]): number[] {
  const fresh = [...served].reverse();
  const seen = new Set(fresh);
  return [...fresh, ...recent.filter((hash) => !seen.has(hash))].slice(0, RECENT_BLOCKS);
}

const sampleTokens = promptTokenSampler();
const shardIds = Array.from({ length: SHARDS }, (_, i) => `shard-${String(i).padStart(4, '0')}`);

interface Conversation {
  readonly id: number;
  readonly shard: string;
  blocks: number[];
  tokens: number;
}

type Domain = typeof thisDomain;

function buildPlane(
  sampleEvery: number,
  domain: Domain = thisDomain,
): { shards: ShardDirectory; live: Conversation[] } {
  const shards = new domain.ShardDirectory({ sampleEvery });
  const recent = new Map<string, number[]>();
  const live: Conversation[] = [];
  // Each shard has served a few recent prompts; the conversations behind them may come back.
  for (let c = 0; c < SHARDS * 4; c++) {
    const shard = shardIds[c % SHARDS] ?? 'shard-0000';
    const tokens = sampleTokens();
    const blocks = conversationBlocks(c, Math.floor(tokens / BLOCK_TOKENS));
    recent.set(shard, remember(recent.get(shard) ?? [], blocks));
    live.push({ id: c, shard, blocks, tokens });
  }
  shardIds.forEach((id, i) =>
    shards.upsert(aLoadedShard(id, i, recent.get(id) ?? [], sampleEvery, domain)),
  );
  return { shards, live };
}

function aLoadedShard(
  id: string,
  index: number,
  recent: readonly number[],
  sampleEvery: number,
  domain: Domain = thisDomain,
): ShardView {
  const running = Math.floor(random.next() * MAX_IN_FLIGHT);
  const saturated = random.next() < 0.05;
  const roll = random.next();
  const waiting = saturated ? Math.floor(random.next() * 40) : 0;
  return {
    id,
    pool: 'llama-3-70b-v1',
    model: 'llama-3-70b',
    zone: ZONES[index % ZONES.length] ?? 'zone-a',
    endpoint: `10.0.${Math.floor(index / 250)}.${index % 250}:50051`,
    state: roll < 0.01 ? 'draining' : roll < 0.02 ? 'failed' : 'ready',
    capacity: {
      maxInFlight: MAX_IN_FLIGHT,
      kvCapacityTokens: 400_000,
      prefillTokensPerSecond: 12_000,
    },
    load: {
      running: saturated ? MAX_IN_FLIGHT : running,
      waiting,
      kvCacheUsage: saturated ? 0.95 : random.next() * 0.8,
      inFlight: saturated ? MAX_IN_FLIGHT : running,
      // A saturated shard has a prefill queue too: a quarter second per waiting turn.
      prefillBacklogMs: waiting * 250,
      ttftMsP50: 150 + random.next() * 600,
      queueTimeMsP50: 0,
      itlMsP50: 12 + random.next() * 25,
      observedAtMs: 0,
    },
    recentPrefixBlocks: domain.BlockSet.of(recent, sampleEvery),
  };
}

/** A continuation extends a live conversation by a reply and a user message; the rest are new. */
function nextRequest(live: readonly Conversation[], next: { id: number }): PlacementRequest {
  const zone = ZONES[Math.floor(random.next() * ZONES.length)];
  if (random.next() < 0.39) {
    const conversation = live[Math.floor(random.next() * live.length)] as Conversation;
    const added = 350 + Math.floor(random.next() * 200);
    const tokens = conversation.tokens + added;
    return {
      conversationId: `c-${conversation.id}`,
      assignedShardId: conversation.shard,
      promptBlocks: conversationBlocks(conversation.id, Math.floor(tokens / BLOCK_TOKENS)),
      promptTokens: tokens,
      priority: 'standard',
      zone,
      pools: ['llama-3-70b-v1'],
    };
  }
  const id = next.id++;
  const tokens = sampleTokens();
  return {
    conversationId: `c-${id}`,
    promptBlocks: conversationBlocks(id, Math.floor(tokens / BLOCK_TOKENS)),
    promptTokens: tokens,
    priority: random.next() < 0.1 ? 'high' : 'standard',
    zone,
    pools: ['llama-3-70b-v1'],
  };
}

// ---- decision cost -----------------------------------------------------------------------------

interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

interface Timing {
  readonly decisions: number;
  /** Process CPU time per decision, µs: what a decision costs, whatever else the machine runs. */
  readonly cpuUs: Percentiles;
  /** The same, leaving out the decisions during which V8 reported a garbage collection. */
  readonly cpuUsWithoutGc: Percentiles;
  /**
   * Each request is decided once per pass over the request set; this is the least CPU time each
   * request took over the passes: the decision's own cost, with what the machine added (preemption
   * aftermath, interrupts, another process's cache traffic) mostly taken out.
   */
  readonly perRequestMinCpuUs: Percentiles;
  /** Wall-clock time per decision on this machine, µs: includes preemption by other processes. */
  readonly wallUs: Percentiles;
  /**
   * A fixed arithmetic loop timed the same way after every decision: on a quiet machine its p99
   * equals its p50; the gap is what this machine added to every figure during this very run.
   */
  readonly interleavedNoiseCpuUs: Percentiles;
  readonly gc: { readonly events: number; readonly totalMs: number; readonly decisionsHit: number };
  readonly byReason: Record<string, { count: number; cpuP50Us: number; cpuP99Us: number }>;
  readonly meanCandidates: number;
  readonly loadAverage1m: { readonly before: number; readonly after: number };
}
/** Reads every block of a prompt (into the cache), returning something the JIT cannot drop. */
function touch(blocks: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < blocks.length; i++) sum += blocks[i] ?? 0;
  return sum > 0 ? 0 : 1;
}

/** What measuring an empty body costs, subtracted from every sample. */
function measurementOverhead(): { wallUs: number; cpuUs: number } {
  const wall = new Float64Array(20_000);
  const cpu = new Float64Array(20_000);
  for (let i = 0; i < wall.length; i++) {
    const w0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const c = process.cpuUsage(c0);
    wall[i] = Number(process.hrtime.bigint() - w0) / 1_000;
    cpu[i] = c.user + c.system;
  }
  return { wallUs: percentiles(wall).p50, cpuUs: percentiles(cpu).p50 };
}

/** A fixed arithmetic workload of about 4 µs: the machine's noise reference. */
function fixedWorkload(seed: number): number {
  let sink = 0;
  for (let k = 0; k < 2_000; k++) sink += Math.sqrt(k + seed);
  return sink;
}

/**
 * The same measurement around a fixed arithmetic loop, on its own: on a quiet machine its p99
 * equals its p50; the gap on this machine is what contention alone adds to every figure above.
 */
function noiseReference(count: number): Percentiles {
  const overhead = measurementOverhead().cpuUs;
  const cpu = new Float64Array(count);
  let sink = 0;
  for (let i = 0; i < count; i++) {
    const c0 = process.cpuUsage();
    sink += fixedWorkload(i);
    const c = process.cpuUsage(c0);
    cpu[i] = Math.max(0, c.user + c.system - overhead);
  }
  if (sink < 0) console.log(sink);
  return percentiles(cpu);
}

/** Garbage collections V8 reports while `run` runs, as [start, end) in performance.now() ms. */
async function withGcEvents<T>(run: () => T): Promise<{ result: T; gcs: [number, number][] }> {
  const gcs: [number, number][] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      gcs.push([entry.startTime, entry.startTime + entry.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });
  const result = run();
  // Entries are delivered on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return { result, gcs };
}

async function measureDecisions(
  label: string,
  config: PlacementConfig,
  count: number,
  sampleEvery: number,
): Promise<Timing> {
  const { shards, live } = buildPlane(sampleEvery);
  const pipeline = new PlacementPipeline(config, seededRandom(7));
  const counter = { id: 10_000_000 };
  const requests = Array.from({ length: Math.min(count, 20_000) }, () =>
    nextRequest(live, counter),
  );
  const wall = new Float64Array(count);
  const cpu = new Float64Array(count);
  const noise = new Float64Array(count);
  const started = new Float64Array(count);
  const ended = new Float64Array(count);
  const reasons: string[] = [];
  let candidates = 0;
  const deadline = Date.now() + TIME_LIMIT_MS;
  for (let i = 0; i < WARMUP && Date.now() < deadline; i++)
    pipeline.decide(requests[i % requests.length]!, shards, 0);
  const overhead = measurementOverhead();
  gc?.();
  const loadBefore = loadavg()[0] ?? 0;
  let sink = 0;
  const { result: done, gcs } = await withGcEvents(() => {
    let i = 0;
    for (; i < count; i++) {
      if ((i & 1_023) === 0 && Date.now() > deadline) break;
      const request = requests[i % requests.length]!;
      // The router hashes a turn's prompt into its blocks just before placing it, so the blocks
      // are in cache when the decision reads them; read them here, untimed, to be alike.
      if (HOT_PROMPTS) sink += touch(request.promptBlocks);
      started[i] = performance.now();
      const w0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const decision = pipeline.decide(request, shards, 0);
      const c = process.cpuUsage(c0);
      wall[i] = Math.max(0, Number(process.hrtime.bigint() - w0) / 1_000 - overhead.wallUs);
      ended[i] = performance.now();
      cpu[i] = Math.max(0, c.user + c.system - overhead.cpuUs);
      if (decision.kind === 'placed') {
        reasons.push(decision.reason);
        candidates += decision.scores.candidates;
      } else reasons.push('unplaceable');
      const n0 = process.cpuUsage();
      sink += fixedWorkload(i);
      const n = process.cpuUsage(n0);
      noise[i] = Math.max(0, n.user + n.system - overhead.cpuUs);
    }
    return i;
  });
  if (sink < 0) console.log(sink);
  const measuredCpu = cpu.subarray(0, done);
  const byReason: Timing['byReason'] = {};
  for (const reason of new Set(reasons)) {
    const subset = percentiles(
      Float64Array.from(measuredCpu.filter((_, i) => reasons[i] === reason)),
    );
    byReason[reason] = {
      count: reasons.filter((r) => r === reason).length,
      cpuP50Us: subset.p50,
      cpuP99Us: subset.p99,
    };
  }
  // Decisions that overlapped a collection (both sorted by time: one merge pass).
  const hitByGc = new Uint8Array(done);
  let hits = 0;
  for (let i = 0, g = 0; i < done && g < gcs.length;) {
    const [gcStart, gcEnd] = gcs[g]!;
    if (gcEnd < started[i]!) g++;
    else {
      if (gcStart <= ended[i]!) {
        hitByGc[i] = 1;
        hits++;
      }
      i++;
    }
  }
  const perRequestMin = new Float64Array(Math.min(done, requests.length)).fill(Infinity);
  for (let i = 0; i < done; i++) {
    const r = i % requests.length;
    perRequestMin[r] = Math.min(perRequestMin[r]!, measuredCpu[i]!);
  }
  const timing: Timing = {
    decisions: done,
    cpuUs: percentiles(measuredCpu),
    cpuUsWithoutGc: percentiles(measuredCpu.filter((_, i) => hitByGc[i] === 0)),
    perRequestMinCpuUs: percentiles(perRequestMin),
    wallUs: percentiles(wall.subarray(0, done)),
    interleavedNoiseCpuUs: percentiles(noise.subarray(0, done)),
    gc: {
      events: gcs.length,
      totalMs: round(gcs.reduce((sum, [start, end]) => sum + end - start, 0)),
      decisionsHit: hits,
    },
    byReason,
    meanCandidates: round(candidates / Math.max(1, done)),
    loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0] ?? 0) },
  };
  console.log(label, JSON.stringify(timing));
  if (process.env.TAIL === '1') describeTail(label, measuredCpu, reasons, requests, perRequestMin);
  return timing;
}

/**
 * What the slowest 1 % of decisions were (TAIL=1): their reasons and prompt lengths, and how many
 * of them were requests that are slow every time (their per-request minimum is in the tail too).
 */
function describeTail(
  label: string,
  cpu: Float64Array,
  reasons: readonly string[],
  requests: readonly PlacementRequest[],
  perRequestMin: Float64Array,
): void {
  const p99 = percentiles(cpu).p99;
  const tail: number[] = [];
  for (let i = 0; i < cpu.length; i++) if ((cpu[i] ?? 0) > p99) tail.push(i);
  const byReason: Record<string, number> = {};
  const blocks: number[] = [];
  let slowEveryTime = 0;
  for (const i of tail) {
    const reason = reasons[i] ?? '?';
    byReason[reason] = (byReason[reason] ?? 0) + 1;
    const r = i % requests.length;
    blocks.push(requests[r]?.promptBlocks.length ?? 0);
    if ((perRequestMin[r] ?? 0) > p99 / 2) slowEveryTime++;
  }
  blocks.sort((a, b) => a - b);
  const allBlocks = requests.map((r) => r.promptBlocks.length).sort((a, b) => a - b);
  console.log(
    `${label} tail`,
    JSON.stringify({
      aboveP99Us: p99,
      decisions: tail.length,
      byReason,
      promptBlocksP50: blocks[blocks.length >> 1],
      allPromptBlocksP50: allBlocks[allBlocks.length >> 1],
      minAboveHalfP99: slowEveryTime,
    }),
  );
}

/**
 * Sampled candidates against scoring every shard, on the same new conversations: how often they
 * pick the same shard, and the sampled choice's score as a fraction of the best score of all.
 */
function samplingQuality(count: number): {
  decisions: number;
  sameShard: number;
  meanScoreRatio: number;
  p10ScoreRatio: number;
} {
  const { shards, live } = buildPlane(SAMPLE_EVERY);
  const sampled = new PlacementPipeline(DEFAULT_PLACEMENT_CONFIG, seededRandom(7));
  const exhaustive = new PlacementPipeline(
    { ...DEFAULT_PLACEMENT_CONFIG, candidates: { mode: 'all' } },
    seededRandom(7),
  );
  const counter = { id: 20_000_000 };
  const ratios: number[] = [];
  let same = 0;
  for (let i = 0; i < count; i++) {
    const request = nextRequest(live, counter);
    if (request.assignedShardId !== undefined) continue;
    const a = sampled.decide(request, shards, 0);
    const b = exhaustive.decide(request, shards, 0);
    if (a.kind !== 'placed' || b.kind !== 'placed') continue;
    if (a.shard.id === b.shard.id) same++;
    ratios.push(b.scores.total > 0 ? a.scores.total / b.scores.total : 1);
  }
  const sorted = Float64Array.from(ratios).sort();
  return {
    decisions: ratios.length,
    sameShard: round(same / Math.max(1, ratios.length)),
    meanScoreRatio: round(ratios.reduce((x, y) => x + y, 0) / Math.max(1, ratios.length)),
    p10ScoreRatio: round(sorted[Math.floor(0.1 * sorted.length)] ?? 0),
  };
}

/**
 * CPU cost of applying one load report to the directory: after the shard served a new prompt (its
 * recent-block list changed: rebuild and re-index), and between turns (same list: load only).
 */
function measureLoadReports(
  count: number,
  sampleEvery: number,
): { changedCpuUs: Percentiles; unchangedCpuUs: Percentiles } {
  const { shards } = buildPlane(sampleEvery);
  const changed = new Float64Array(count);
  const unchanged = new Float64Array(count);
  const overhead = measurementOverhead().cpuUs;
  for (let i = 0; i < count; i++) {
    const current = shards.get(shardIds[i % SHARDS]!)!;
    const served = conversationBlocks(50_000_000 + i, Math.floor(sampleTokens() / BLOCK_TOKENS));
    const list = remember(current.recentPrefixBlocks.toArray(), served);
    let c0 = process.cpuUsage();
    shards.reportLoad(current.id, { ...current.load, running: i % MAX_IN_FLIGHT }, list);
    let c = process.cpuUsage(c0);
    changed[i] = Math.max(0, c.user + c.system - overhead);
    c0 = process.cpuUsage();
    shards.reportLoad(current.id, { ...current.load, running: (i + 1) % MAX_IN_FLIGHT }, list);
    c = process.cpuUsage(c0);
    unchanged[i] = Math.max(0, c.user + c.system - overhead);
  }
  return { changedCpuUs: percentiles(changed), unchangedCpuUs: percentiles(unchanged) };
}

// ---- memory per assignment ---------------------------------------------------------------------

function heapBytes(): number {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  // Typed arrays live outside the JS heap: count their backing stores too.
  return usage.heapUsed + usage.arrayBuffers;
}

function conversationId(i: number): string {
  // UUID-shaped (36 characters), like the ids conversation-state hands out.
  return `0190a1b2-c3d4-7e5f-8a9b-${i.toString(16).padStart(12, '0')}`;
}

/** Heap bytes per conversation that `build` retains (measured while its result is still held). */
function retainedPerConversation<T>(
  build: () => T,
  check: (built: T) => void = () => undefined,
): number {
  const before = heapBytes();
  const built = build();
  const after = heapBytes();
  check(built);
  return (after - before) / CONVERSATIONS;
}

function measureAssignments(): Record<string, number> {
  const perAssignment = retainedPerConversation(
    () => {
      const view = new AssignmentView();
      for (let i = 0; i < CONVERSATIONS; i++) {
        view.applyRemote({
          conversationId: conversationId(i),
          shardId: shardIds[i % SHARDS]!,
          version: 1 + (i % 5),
        });
      }
      return view;
    },
    (view) => {
      if (view.get(conversationId(123_457))?.shardId !== shardIds[123_457 % SHARDS]) {
        throw new Error('assignment view lost an entry');
      }
    },
  );
  // The id strings alone (less the array's 8-byte slots), to show what the structure adds to them.
  const idsOnly =
    retainedPerConversation(() =>
      Array.from({ length: CONVERSATIONS }, (_, i) => conversationId(i)),
    ) - 8;
  // For comparison: the obvious Map<string, { shardId, version }>.
  const naive = retainedPerConversation(() => {
    const map = new Map<string, { shardId: string; version: number }>();
    for (let i = 0; i < CONVERSATIONS; i++) {
      map.set(conversationId(i), { shardId: shardIds[i % SHARDS]!, version: 1 + (i % 5) });
    }
    return map;
  });
  return {
    conversations: CONVERSATIONS,
    bytesPerAssignment: round(perAssignment),
    ofWhichConversationIdString: round(idsOnly),
    naiveMapBytesPerAssignment: round(naive),
  };
}

// ---- helpers and report ------------------------------------------------------------------------

function percentiles(values: Float64Array): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: round(sorted[sorted.length - 1] ?? 0),
    mean: round(sum / Math.max(1, sorted.length)),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** As the router composes it: the latency model reads the reply length it learns. */
const routerConfig: PlacementConfig = {
  ...DEFAULT_PLACEMENT_CONFIG,
  latency: {
    ...DEFAULT_PLACEMENT_CONFIG.latency,
    replyLength: new ReplyLengthTracker(DEFAULT_PLACEMENT_CONFIG.latency.expectedOutputTokens),
  },
};
const allShardsConfig: PlacementConfig = {
  ...routerConfig,
  candidates: { mode: 'all' },
};
// ---- old against new: the same decisions --------------------------------------------------------

/** What a decision says, as comparable data. */
function comparable(decision: PlacementDecision): string {
  if (decision.kind !== 'placed') return JSON.stringify(decision);
  const { shard, reason, previousShardId, scores } = decision;
  return JSON.stringify({
    shard: shard.id,
    reason,
    previousShardId,
    total: scores.total,
    byScorer: scores.byScorer,
    candidates: scores.candidates,
    budgetMs: scores.budgetMs,
    predicted: scores.predicted,
    predictedOnLeft: scores.predictedOnLeft,
  });
}

const TIERS: readonly PriorityTier[] = ['batch', 'low', 'standard', 'high', 'critical'];

/** The bench's request, varied: every tier, tight budgets, no zone, any pool, exclusions, purposes. */
function varied(request: PlacementRequest, r: Random): PlacementRequest {
  const roll = r.next();
  const any = (): string => shardIds[Math.floor(r.next() * SHARDS)] ?? 'shard-0000';
  const purpose = r.next();
  return {
    ...request,
    priority: TIERS[Math.floor(r.next() * TIERS.length)] ?? 'standard',
    ttftBudgetMs: roll < 0.3 ? 50 + r.next() * 1_500 : undefined,
    zone: roll > 0.9 ? undefined : request.zone,
    pools: roll > 0.95 ? [] : request.pools,
    purpose:
      request.assignedShardId === undefined || purpose > 0.1
        ? undefined
        : purpose < 0.05
          ? 'failover'
          : 'migration',
    excludedShardIds:
      r.next() < 0.05 ? [request.assignedShardId ?? any(), any(), any()] : undefined,
  };
}

/**
 * Decides the same seeded workload with this build and `other` on identical planes, applying the
 * same load reports (new recent blocks, state changes) to both as it goes; returns the mismatches.
 */
function compareDecisions(other: Domain): number {
  const configs: [string, PlacementConfig, number][] = [
    ['default', routerConfig, 20_000],
    ['all shards', allShardsConfig, 2_000],
    ['power of two, top 4', { ...routerConfig, picker: { kind: 'power-of-two', topK: 4 } }, 10_000],
    ['power of two', { ...routerConfig, picker: { kind: 'power-of-two', topK: 0 } }, 5_000],
    ['weighted random', { ...routerConfig, picker: { kind: 'weighted-random' } }, 10_000],
    [
      'affinity, fits-latency-budget',
      {
        ...routerConfig,
        filters: [...routerConfig.filters, 'fits-latency-budget'],
        scorers: { ...routerConfig.scorers, affinity: 2 },
      },
      10_000,
    ],
    ['zone only (ties)', { ...routerConfig, scorers: { zone: 1 } }, 10_000],
    ['prefix only, every block', { ...routerConfig, scorers: { 'prefix-overlap': 1 } }, 10_000],
    ['no scorers', { ...routerConfig, scorers: {} }, 5_000],
  ];
  let mismatches = 0;
  for (const [index, [label, config, count]] of configs.entries()) {
    const sampleEvery = label.endsWith('every block') ? 1 : SAMPLE_EVERY;
    const seed = 9_000 + index;
    random = seededRandom(seed);
    const mine = buildPlane(sampleEvery);
    random = seededRandom(seed);
    const theirs = buildPlane(sampleEvery, other);
    const pipelines = [
      new thisDomain.PlacementPipeline(config, seededRandom(seed)),
      new other.PlacementPipeline(config, seededRandom(seed)),
    ] as const;
    const planes = [mine.shards, theirs.shards] as const;
    const vary = seededRandom(seed + 1);
    const counter = { id: 30_000_000 };
    const reasons: Record<string, number> = {};
    let differ = 0;
    for (let i = 0; i < count; i++) {
      if (i % 50 === 49) {
        // A load report to both planes: new load, sometimes a newly served prompt or a new state.
        const id = shardIds[Math.floor(vary.next() * SHARDS)] ?? 'shard-0000';
        const inFlight = Math.floor(vary.next() * MAX_IN_FLIGHT * 1.2);
        const served = vary.next() < 0.5;
        const state = vary.next();
        const conversation = mine.live[Math.floor(vary.next() * mine.live.length)];
        for (const plane of planes) {
          const current = plane.get(id);
          if (current === undefined) continue;
          const load = {
            ...current.load,
            inFlight,
            running: Math.min(inFlight, MAX_IN_FLIGHT),
            prefillBacklogMs: inFlight * 20,
          };
          const list = current.recentPrefixBlocks.toArray();
          plane.reportLoad(
            id,
            load,
            served && conversation ? remember(list, conversation.blocks) : list,
          );
          if (state < 0.05) {
            const after = plane.get(id);
            if (after) plane.upsert({ ...after, state: state < 0.025 ? 'draining' : 'ready' });
          }
        }
      }
      const request = varied(nextRequest(mine.live, counter), vary);
      const ours = pipelines[0].decide(request, planes[0], 0);
      const old = pipelines[1].decide(request, planes[1], 0);
      const reason = ours.kind === 'placed' ? ours.reason : 'unplaceable';
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      const a = comparable(ours);
      const b = comparable(old);
      if (a !== b) {
        if (differ < 3) console.log(`${label}, decision ${i}:\n  this  ${a}\n  other ${b}`);
        differ++;
      }
    }
    console.log(label, JSON.stringify({ decisions: count, reasons, differ }));
    mismatches += differ;
  }
  return mismatches;
}

/**
 * Both builds timed in one process on identical planes, each request decided by one and then the
 * other (the order alternating by pass), so that both see the same moment's machine: time per
 * decision, and the least each request took over the passes. CPU time as above, or with `wall`
 * wall-clock time from hrtime alone: the two getrusage calls that CPU time needs enter the kernel
 * around every decision, and a decision that mostly waits on memory pays for that in TLB and cache.
 */
function pairedTiming(other: Domain, passes: number, wall: boolean): Record<string, unknown> {
  random = seededRandom(20_250_101);
  const mine = buildPlane(SAMPLE_EVERY);
  random = seededRandom(20_250_101);
  const theirs = buildPlane(SAMPLE_EVERY, other);
  const pipelines = [
    new thisDomain.PlacementPipeline(routerConfig, seededRandom(7)),
    new other.PlacementPipeline(routerConfig, seededRandom(7)),
  ] as const;
  const planes = [mine.shards, theirs.shards] as const;
  const counter = { id: 10_000_000 };
  const requests = Array.from({ length: 20_000 }, () => nextRequest(mine.live, counter));
  for (let i = 0; i < WARMUP; i++) {
    for (const b of [0, 1] as const)
      pipelines[b].decide(requests[i % requests.length]!, planes[b], 0);
  }
  const overhead = wall ? measurementOverhead().wallUs : measurementOverhead().cpuUs;
  const all = [
    new Float64Array(passes * requests.length),
    new Float64Array(passes * requests.length),
  ];
  const least = [0, 1].map(() => new Float64Array(requests.length).fill(Infinity));
  gc?.();
  const loadBefore = loadavg()[0] ?? 0;
  for (let pass = 0; pass < passes; pass++) {
    for (let i = 0; i < requests.length; i++) {
      for (let k = 0; k < 2; k++) {
        const b = (pass + k) % 2 === 0 ? 0 : 1;
        let us: number;
        if (wall) {
          const w0 = process.hrtime.bigint();
          pipelines[b].decide(requests[i]!, planes[b], 0);
          us = Math.max(0, Number(process.hrtime.bigint() - w0) / 1_000 - overhead);
        } else {
          const c0 = process.cpuUsage();
          pipelines[b].decide(requests[i]!, planes[b], 0);
          const c = process.cpuUsage(c0);
          us = Math.max(0, c.user + c.system - overhead);
        }
        all[b]![pass * requests.length + i] = us;
        if (us < least[b]![i]!) least[b]![i] = us;
      }
    }
  }
  const report = (b: 0 | 1) => ({
    us: percentiles(all[b]!),
    perRequestMinUs: percentiles(least[b]!),
  });
  return {
    clock: wall ? 'wall' : 'cpu',
    passes,
    loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0] ?? 0) },
    this: report(0),
    other: report(1),
  };
}

if (process.env.COMPARE_WITH !== undefined) {
  const other = (await import(process.env.COMPARE_WITH)) as Domain;
  // COMPARE_CHECK=0 skips the comparison (timing only, for iterating).
  const mismatches = process.env.COMPARE_CHECK === '0' ? 0 : compareDecisions(other);
  console.log(mismatches === 0 ? 'identical decisions' : `${mismatches} decisions differ`);
  if (mismatches > 0) process.exit(1);
  const passes = Number(process.env.COMPARE_PASSES ?? 0);
  const wall = process.env.COMPARE_CLOCK === 'wall';
  if (passes > 0) console.log('paired timing', JSON.stringify(pairedTiming(other, passes, wall)));
  process.exit(0);
}

// Repeated trials of the default pipeline, each on a fresh plane: the range is what to compare.
const sampledTrials: Timing[] = [];
for (let trial = 0; trial < TRIALS; trial++) {
  sampledTrials.push(
    await measureDecisions(`sampled, trial ${trial + 1}`, routerConfig, DECISIONS, SAMPLE_EVERY),
  );
}
const sampled = [...sampledTrials].sort((a, b) => a.cpuUs.p99 - b.cpuUs.p99)[
  Math.floor(sampledTrials.length / 2)
]!;
if (process.env.QUICK === '1') {
  // Only the trials above, nothing written: for iterating on the decision.
  console.log(
    JSON.stringify(
      sampledTrials.map((t) => ({
        p50: t.cpuUs.p50,
        p99: t.cpuUs.p99,
        p999: t.cpuUs.p999,
        p99NoGc: t.cpuUsWithoutGc.p99,
        p99PerRequestMin: t.perRequestMinCpuUs.p99,
        noiseP50: t.interleavedNoiseCpuUs.p50,
        noiseP99: t.interleavedNoiseCpuUs.p99,
        load: t.loadAverage1m,
      })),
    ),
  );
  process.exit(0);
}
const sampledEveryBlock = await measureDecisions(
  'sampled, every block indexed',
  routerConfig,
  DECISIONS,
  1,
);
const exhaustive = await measureDecisions(
  'all-shards',
  allShardsConfig,
  Math.min(DECISIONS, 20_000),
  SAMPLE_EVERY,
);
const noise = noiseReference(50_000);
const quality = samplingQuality(2_000);
const loadReports = measureLoadReports(5_000, SAMPLE_EVERY);
const loadReportsEveryBlock = measureLoadReports(5_000, 1);
const memory = measureAssignments();

const report = {
  benchmark: 'placement-decision',
  node: process.version,
  machine: { cpus: cpus().length, loadAverage1m: round(loadavg()[0] ?? 0) },
  shards: SHARDS,
  blockTokens: BLOCK_TOKENS,
  recentBlocksPerShard: RECENT_BLOCKS,
  blockSampleEvery: SAMPLE_EVERY,
  workload: 'prompt lengths from the Mooncake conversation trace; 39 % continuations, 61 % new',
  decision: {
    /** The median trial by CPU p99. */
    sampled,
    sampledTrials: sampledTrials.map((t) => ({
      cpuUs: t.cpuUs,
      cpuUsWithoutGc: t.cpuUsWithoutGc,
      perRequestMinCpuUs: t.perRequestMinCpuUs,
      interleavedNoiseCpuUs: t.interleavedNoiseCpuUs,
      loadAverage1m: t.loadAverage1m,
    })),
    sampledEveryBlockIndexed: sampledEveryBlock,
    allShards: exhaustive,
    samplingQuality: quality,
    fixedWorkloadCpuUs: noise,
  },
  loadReportApply: { sampled: loadReports, everyBlockIndexed: loadReportsEveryBlock },
  memory,
  targets: { decisionP99Us: 20, bytesPerAssignment: 200 },
};
writeFileSync(
  `${root}bench/results/placement-decision.json`,
  `${JSON.stringify(report, null, 2)}\n`,
);
console.log(
  JSON.stringify({ noise, quality, loadReports, loadReportsEveryBlock, memory }, null, 2),
);
