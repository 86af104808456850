import type { common } from '@spillway/contracts';
import { waitFor } from '@spillway/testing';
import type { PlaneRouter, RouterPlane } from './router-plane.js';
import { aTurn, converse, prose, user, type TurnOutcome } from './turns.js';

/** How a shard is made to fail under load. */
export type FailureInjection =
  /** SIGKILL the engine: the adapter's streams to it break at once. */
  | 'kill-gpu-sim'
  /** SIGKILL the adapter: the router's streams to it break at once. */
  | 'kill-adapter'
  /**
   * SIGSTOP the adapter: its connections stay open and silent, only the registry's failure
   * detector (missed heartbeats) tells the router, which then cuts the streams.
   */
  | 'pause-adapter';

export interface FailoverTurn {
  readonly conversationId: string;
  readonly messages: readonly common.ChatMessage[];
  readonly outcome: TurnOutcome | undefined;
  readonly error: unknown;
  /** The shard TurnStarted named. */
  readonly firstShardId: string | undefined;
  /** Whether its stream was open on the failed shard when the failure was injected. */
  readonly interrupted: boolean;
  /** Reply tokens the caller had (as deltas) when the failure was injected. */
  readonly deltasBeforeFailure: number;
  /** For an interrupted turn: milliseconds from the injection to its next delta. */
  readonly resumeGapMs: number | undefined;
}

export interface FailoverRun {
  readonly failedShardId: string;
  readonly injection: FailureInjection;
  readonly injectedAtMs: number;
  readonly turns: readonly FailoverTurn[];
}

export interface FailoverScenarioOptions {
  readonly router: PlaneRouter;
  readonly turns: number;
  readonly injection: FailureInjection;
  /** Distinguishes the conversations of one run from another's. */
  readonly label: string;
  /** The failure waits until the busiest shard streams at least this many replies. */
  readonly streamingOnTarget?: number;
}

interface Live {
  shardId: string | undefined;
  deltas: number;
  done: boolean;
}

/**
 * Sends `turns` streaming turns at once, waits until one shard is streaming several of them, makes
 * that shard fail, and reads every stream to its end. The caller checks the texts (against the
 * reference simulator) and puts the shard back.
 */
export async function runFailoverScenario(
  plane: RouterPlane,
  options: FailoverScenarioOptions,
): Promise<FailoverRun> {
  const live: Live[] = [];
  const requests = Array.from({ length: options.turns }, (_, i) => ({
    conversationId: `${options.label}-${i}`,
    messages: [user(`Question ${i} of ${options.label}: ${prose(i + options.label.length, 30)}?`)],
  }));
  const settled = requests.map(({ conversationId, messages }, i) => {
    const state: Live = { shardId: undefined, deltas: 0, done: false };
    live[i] = state;
    return converse(
      options.router.client,
      aTurn({ conversationId, messages, stateless: true, model: plane.model }),
      {
        onStarted: (started) => (state.shardId = started.shardId),
        onDelta: (outcome) => (state.deltas = outcome.deltas),
      },
    ).then(
      (outcome) => {
        state.done = true;
        return { outcome, error: undefined };
      },
      (error: unknown) => {
        state.done = true;
        return { outcome: undefined, error };
      },
    );
  });

  const wanted = options.streamingOnTarget ?? 3;
  const target = await waitFor(
    () => {
      const streaming = new Map<string, number>();
      for (const state of live) {
        if (state.done || state.shardId === undefined || state.deltas < 2) continue;
        streaming.set(state.shardId, (streaming.get(state.shardId) ?? 0) + 1);
      }
      const [busiest] = [...streaming.entries()].sort((a, b) => b[1] - a[1]);
      return busiest !== undefined && busiest[1] >= wanted ? busiest[0] : undefined;
    },
    { description: `a shard streaming ${wanted} replies`, timeoutMs: 30_000, intervalMs: 5 },
  );
  const atInjection = live.map((state) => ({
    interrupted: state.shardId === target && !state.done,
    deltas: state.deltas,
  }));
  const failed = plane.shard(target);
  const injectedAtMs = Date.now();
  switch (options.injection) {
    case 'kill-gpu-sim':
      await failed.killGpuSim();
      break;
    case 'kill-adapter':
      await failed.killAdapter();
      break;
    case 'pause-adapter':
      failed.pauseAdapter();
      break;
  }

  const results = await Promise.all(settled);
  return {
    failedShardId: target,
    injection: options.injection,
    injectedAtMs,
    turns: results.map(({ outcome, error }, i) => {
      const at = atInjection[i] ?? { interrupted: false, deltas: 0 };
      const resumedAt = at.interrupted
        ? resumedAtMs(outcome?.deltaTimesMs ?? [], injectedAtMs)
        : undefined;
      return {
        conversationId: requests[i]?.conversationId ?? '',
        messages: requests[i]?.messages ?? [],
        outcome,
        error,
        firstShardId: outcome?.started?.shardId ?? live[i]?.shardId,
        interrupted: at.interrupted,
        deltasBeforeFailure: at.deltas,
        resumeGapMs: resumedAt === undefined ? undefined : resumedAt - injectedAtMs,
      };
    }),
  };
}

/**
 * When the resumed stream's first token arrived: the delta that ends the longest silence after the
 * failure. Deltas the failed shard had already sent (in flight, or buffered by its adapter) still
 * arrive just after the injection; the next shard's come after the pause it took to notice the
 * failure, place the turn again and prefill it.
 */
function resumedAtMs(times: readonly number[], injectedAtMs: number): number | undefined {
  let best: number | undefined;
  let longest = -1;
  let previous = injectedAtMs;
  for (const time of times) {
    if (time < injectedAtMs) continue;
    if (time - previous > longest) {
      longest = time - previous;
      best = time;
    }
    previous = time;
  }
  return best;
}

/** The p-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
