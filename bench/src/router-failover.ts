// Time from a shard's SIGKILL to the resumed stream: with three simulated shards (gpu-sim in real
// time, each behind its inference adapter) and one router, 30 streaming turns at once; when one
// shard streams several of them it is killed (its engine, or its adapter), and for every stream that
// was open on it the gap from the kill to the next token the caller receives is recorded. Every
// reply is also compared with the simulator's deterministic text, and turns sent are counted against
// turns completed. A third case SIGSTOPs the adapter: nothing breaks on the wire and only the
// registry's failure detector (FAILURE_AFTER_MS 600) tells the router, so its gap includes that.
// The harness is the failover integration test's (@spillway/router/testing).
//
// Run: npx turbo run build --filter=@spillway/router... --filter=@spillway/inference-adapter... \
//        --filter=@spillway/shard-metadata... --filter=@spillway/gpu-sim... &&
//      npx tsc -p bench/tsconfig.build.json && npx node bench/dist/router-failover.js
// Knobs: ROUNDS (6 per SIGKILL kind), PAUSE_ROUNDS (2), TURNS (30), TIME_SCALE (1), LIGHT_ROUNDS (4:
// SIGKILL rounds with LIGHT_TURNS (6) streams, to show what CPU contention on a small machine adds).
// Writes bench/results/router-failover.json.
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { shard } from '@spillway/contracts';
import { freePort } from '@spillway/testing';
import {
  percentile,
  runFailoverScenario,
  startRouterPlane,
  toReference,
  type FailureInjection,
} from '@spillway/router/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 6);
const PAUSE_ROUNDS = Number(process.env.PAUSE_ROUNDS ?? 2);
const TURNS = Number(process.env.TURNS ?? 30);
const TIME_SCALE = Number(process.env.TIME_SCALE ?? 1);
const LIGHT_ROUNDS = Number(process.env.LIGHT_ROUNDS ?? 4);
const LIGHT_TURNS = Number(process.env.LIGHT_TURNS ?? 6);

type Round = { readonly injection: FailureInjection; readonly turns: number; readonly key: string };

interface Tally {
  rounds: number;
  turnsSent: number;
  turnsCompleted: number;
  textMismatches: number;
  interrupted: number;
  /** Gaps of streams that had text on screen at the kill. */
  midStreamGapsMs: number[];
  /** Gaps of streams killed before their first token (time to first token after the kill). */
  beforeFirstTokenGapsMs: number[];
  failoversPerInterruptedTurn: number[];
}

function summary(values: readonly number[]) {
  const round = (value: number | undefined) =>
    value === undefined ? null : Math.round(value * 10) / 10;
  return {
    count: values.length,
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(values.length === 0 ? undefined : Math.max(...values)),
  };
}

/**
 * The router's own phases of each resume, from its debug log (milliseconds after it noticed the
 * failure): placed (placement and the registry's compare-and-set), admitted, the new shard's first
 * event, its first token. Means over every resume of the run.
 */
function resumePhases(lines: readonly string[]): Record<string, unknown> {
  const sums = { placedMs: 0, admittedMs: 0, firstEventMs: 0, resumedMs: 0 };
  let count = 0;
  for (const line of lines) {
    const at = line.indexOf('turn resumed {');
    if (at < 0) continue;
    // Colour codes may follow the JSON: cut at its last brace.
    const json = line.slice(at + 'turn resumed '.length, line.lastIndexOf('}') + 1);
    try {
      const fields = JSON.parse(json) as Partial<Record<keyof typeof sums, number>>;
      for (const key of Object.keys(sums) as (keyof typeof sums)[]) sums[key] += fields[key] ?? 0;
      count++;
    } catch {
      // A line cut by the log's colouring: skip it.
    }
  }
  const mean = (value: number) => (count > 0 ? Math.round((value / count) * 10) / 10 : null);
  return {
    resumes: count,
    meanPlacedMs: mean(sums.placedMs),
    meanAdmittedMs: mean(sums.admittedMs),
    meanFirstEventMs: mean(sums.firstEventMs),
    meanFirstTokenMs: mean(sums.resumedMs),
  };
}

/**
 * The router's own view (router_resume_ms: from noticing the failure to the next shard's first
 * token), per phase: count, mean, and the bucket bound holding the 50th and 99th percentile.
 */
function resumeHistogram(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const phase of ['mid-stream', 'before-first-token']) {
    const buckets: [number, number][] = [];
    let sum = 0;
    let count = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('router_resume_ms') || !line.includes(`phase="${phase}"`)) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (line.startsWith('router_resume_ms_bucket') && le !== undefined)
        buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), value]);
      else if (line.startsWith('router_resume_ms_sum')) sum = value;
      else if (line.startsWith('router_resume_ms_count')) count = value;
    }
    const bound = (q: number) =>
      buckets.sort((a, b) => a[0] - b[0]).find(([, cumulative]) => cumulative >= q * count)?.[0];
    out[phase] = {
      count,
      meanMs: count > 0 ? Math.round((sum / count) * 10) / 10 : null,
      p50AtMostMs: count > 0 ? bound(0.5) : null,
      p99AtMostMs: count > 0 ? bound(0.99) : null,
    };
  }
  return out;
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0];
  const plane = await startRouterPlane({
    shards: ['a', 'b', 'c'].map((id) => ({
      id: `shard-${id}`,
      pool: 'pool-1',
      maxInFlight: 32,
      timeScale: TIME_SCALE,
    })),
  });
  const tallies = new Map<string, Tally>();
  let phases: Record<string, unknown> | undefined;
  let routerSide: Record<string, unknown> | undefined;
  try {
    const metricsPort = await freePort();
    const router = await plane.startRouter({
      STREAM_STALL_TIMEOUT_MS: '0',
      RANDOM_SEED: '5',
      METRICS_PORT: String(metricsPort),
      // The 'turn resumed' debug lines carry the router's phases of each resume.
      LOG_LEVEL: 'debug',
    });
    const plan: Round[] = [];
    for (let i = 0; i < ROUNDS; i++)
      for (const injection of ['kill-gpu-sim', 'kill-adapter'] as const)
        plan.push({ injection, turns: TURNS, key: injection });
    for (let i = 0; i < PAUSE_ROUNDS; i++)
      plan.push({ injection: 'pause-adapter', turns: TURNS, key: 'pause-adapter' });
    for (let i = 0; i < LIGHT_ROUNDS; i++) {
      const injection = i % 2 === 0 ? 'kill-gpu-sim' : 'kill-adapter';
      plan.push({ injection, turns: LIGHT_TURNS, key: `${injection}, ${LIGHT_TURNS} streams` });
    }
    for (const [round, { injection, turns, key }] of plan.entries()) {
      const run = await runFailoverScenario(plane, {
        router,
        turns,
        injection,
        label: `bench-${round}`,
        streamingOnTarget: Math.min(3, Math.ceil(turns / 3)),
      });
      const expected = await Promise.all(
        run.turns.map((turn) => plane.referenceReply(turn.messages.map(toReference))),
      );
      const tally = tallies.get(key) ?? {
        rounds: 0,
        turnsSent: 0,
        turnsCompleted: 0,
        textMismatches: 0,
        interrupted: 0,
        midStreamGapsMs: [],
        beforeFirstTokenGapsMs: [],
        failoversPerInterruptedTurn: [],
      };
      tallies.set(key, tally);
      tally.rounds++;
      run.turns.forEach((turn, i) => {
        tally.turnsSent++;
        if (turn.outcome?.completed !== undefined) tally.turnsCompleted++;
        if (turn.outcome?.text !== expected[i]) tally.textMismatches++;
        if (!turn.interrupted) return;
        tally.interrupted++;
        tally.failoversPerInterruptedTurn.push(turn.outcome?.completed?.failovers ?? 0);
        if (turn.resumeGapMs === undefined) return;
        (turn.deltasBeforeFailure > 0 ? tally.midStreamGapsMs : tally.beforeFirstTokenGapsMs).push(
          turn.resumeGapMs,
        );
      });
      process.stderr.write(
        `round ${round} ${injection} on ${run.failedShardId}: ${run.turns.filter((t) => t.interrupted).length} interrupted, gaps ${run.turns
          .map((t) => t.resumeGapMs)
          .filter((g) => g !== undefined)
          .map((g) => Math.round(g))
          .join(' ')} ms\n`,
      );
      const failed = plane.shard(run.failedShardId);
      if (injection === 'kill-gpu-sim') await failed.restartGpuSim();
      else await failed.restartAdapter();
      await plane.waitForShardState(shard.ShardState.SHARD_STATE_READY);
    }
    phases = resumePhases(router.process.output());
    routerSide = resumeHistogram(
      await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    );
  } finally {
    await plane.close();
  }

  const byInjection = Object.fromEntries(
    [...tallies].map(([injection, tally]) => [
      injection,
      {
        rounds: tally.rounds,
        turnsSent: tally.turnsSent,
        turnsCompleted: tally.turnsCompleted,
        textMismatches: tally.textMismatches,
        interruptedStreams: tally.interrupted,
        resumeGapMidStreamMs: summary(tally.midStreamGapsMs),
        firstTokenAfterKillMs: summary(tally.beforeFirstTokenGapsMs),
        maxFailoversPerTurn: Math.max(0, ...tally.failoversPerInterruptedTurn),
      },
    ]),
  );
  const sigkill = [...tallies]
    .filter(([key]) => key === 'kill-gpu-sim' || key === 'kill-adapter')
    .flatMap(([, tally]) => [...tally.midStreamGapsMs, ...tally.beforeFirstTokenGapsMs]);
  const output = {
    benchmark: 'router-failover',
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim(),
    loadAverage1m: { before: loadBefore, after: loadavg()[0] },
    settings: {
      turnsPerRound: TURNS,
      gpuSimTimeScale: TIME_SCALE,
      profile: 'llama-3.1-8b-h100',
      registryFailureAfterMs: 600,
      registryHeartbeatMs: 100,
      routerStallTimeout: 'off',
    },
    method:
      'Keys: the failure injected, with TURNS concurrent streams unless the key says otherwise. Per interrupted stream: wall time from the kill (taken just before the signal is sent) to the TokenDelta that ends the longest silence after it (deltas the dead shard had already sent still arrive right after the kill). The gap includes noticing the failure, placing the turn again, re-pinning it (compare-and-set), the new shard prefilling the prompt plus the text already sent, and its first token. Every reply is compared with the reference gpu-sim’s deterministic text.',
    sigkillResumeGapMs: summary(sigkill),
    byInjection,
    routerResumeMs: routerSide,
    routerResumePhasesMs: phases,
  };
  writeFileSync(
    `${root}bench/results/router-failover.json`,
    `${JSON.stringify(output, null, 2)}\n`,
  );
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `router-failover failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  },
);
