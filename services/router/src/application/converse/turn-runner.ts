import { DomainError, isDomainError } from '@spillway/errors';
import type { PlacementReason, PriorityTier, ShardDirectory } from '../../domain/index.js';
import {
  ShardLeftQueue,
  type AdmissionLease,
  type TurnAdmission,
} from '../admission/turn-admission.js';
import type { Clock } from '../clock.port.js';
import type { ConversationMessage, TokenUsage, TurnFinishReason } from '../conversation.port.js';
import { FullShards } from '../failover/full-shards.js';
import type { OpenAttempt, OpenAttempts } from '../failover/open-attempts.js';
import type { SuspectShards } from '../failover/suspect-shards.js';
import type { GenerateEvent, InferencePort, SamplingParams } from '../inference.port.js';
import type { LogPort } from '../log.port.js';
import type { PlaceTurn, PlaceTurnResult } from '../place-turn/place-turn.js';
import type { EncodedPrompt, PromptEncoder } from '../prompt-encoder.port.js';
import type { RouterMetrics } from '../router-metrics.port.js';
import type { Timer } from '../timer.port.js';
import {
  cancellation,
  classifyAttemptFailure,
  EngineFinishedWithError,
  StreamEndedEarly,
} from './turn-failure.js';

/** One turn as the runner needs it: what to send, and how to place it. */
export interface TurnSpec {
  readonly tenantId: string;
  /** The placement key: the conversation id (or a stateless turn's derived key). */
  readonly conversationId: string;
  readonly turnId: string;
  readonly model: string;
  /** The whole prompt: history plus the new user message. */
  readonly messages: readonly ConversationMessage[];
  readonly sampling: SamplingParams;
  readonly priority: PriorityTier;
  readonly ttftBudgetMs: number;
  /** Whether placement pins the conversation in the registry. */
  readonly pin: boolean;
  /** The conversation has a stream in conversation-state, where its pins are recorded. */
  readonly stored?: boolean | undefined;
  readonly encoded: EncodedPrompt;
  readonly zone?: string | undefined;
}

export interface TurnResult {
  readonly text: string;
  readonly shardId: string;
  readonly finishReason: TurnFinishReason;
  readonly usage: TokenUsage;
  readonly failovers: number;
  readonly spilled: boolean;
  readonly firstTokenAtMs: number | undefined;
}

/** How often a failed-over turn with no ready shard asks placement again. */
const FAILOVER_RETRY_MS = 100;

export type PlacedTurn = Extract<PlaceTurnResult, { kind: 'placed' }>;

export type TurnRunEvent =
  /** Every placement of the turn (the first one, and each after a failure). */
  | { readonly kind: 'placed'; readonly placement: PlacedTurn }
  | { readonly kind: 'started'; readonly shardId: string; readonly reason: PlacementReason }
  | { readonly kind: 'delta'; readonly text: string; readonly index: number }
  | { readonly kind: 'finished'; readonly result: TurnResult };

export interface TurnRunnerSettings {
  /** Moves to another shard after a failure, per turn. */
  readonly maxFailovers: number;
  /** Silence on an open stream after which the shard is given up for this turn; 0: never. */
  readonly stallTimeoutMs: number;
  /**
   * A turn that lost its shard and finds no other ready one waits up to this long for one (a late
   * heartbeat, a restarted or newly scaled shard) before failing; 0: fail at once.
   */
  readonly failoverWaitMs: number;
}

export interface TurnRunnerDependencies {
  readonly placeTurn: PlaceTurn;
  readonly admission: TurnAdmission;
  readonly inference: InferencePort;
  /** Counts the tokens of each delta (a delta may carry several). */
  readonly encoder: PromptEncoder;
  readonly shards: ShardDirectory;
  readonly attempts: OpenAttempts;
  readonly suspects: SuspectShards;
  readonly clock: Clock;
  readonly timer: Timer;
  readonly metrics: RouterMetrics;
  readonly log: LogPort;
  readonly settings: TurnRunnerSettings;
  /** Learns how long replies are, for the latency model (domain ReplyLengthTracker). */
  readonly replyLengths?: { observe(completionTokens: number): void } | undefined;
}

/** Re-placements that are not failures (the registry or a queue sent the turn elsewhere). */
const MAX_REPLACEMENTS = 8;
/** Refusals by full shards (each one waited out or sent elsewhere) before the turn gives up. */
const MAX_FULL_REFUSALS = 16;
/** Times a turn shed from a queue by a slower drain is placed again (it may spill now). */
const MAX_REQUEUES = 1;

/**
 * Runs one turn to its end on whichever shards it takes: place (affinity, spill, new), wait for a
 * stream slot, stream from `Inference.Generate`. When the shard fails before the first token the
 * turn starts over elsewhere; when it fails mid-stream the next shard gets the text already sent as
 * `resume_from_text` and continues after it, so the caller reads one reply with nothing repeated or
 * missing. Each move re-pins the conversation (compare-and-set, reason failover).
 */
export class TurnRunner {
  constructor(private readonly deps: TurnRunnerDependencies) {}

  async *run(spec: TurnSpec, signal: AbortSignal): AsyncGenerator<TurnRunEvent, void, undefined> {
    const { admission, attempts, inference, metrics, suspects, settings } = this.deps;
    const failedOn: string[] = [];
    const sentAway: string[] = [];
    const full = new FullShards();
    let fullRefusals = 0;
    let failovers = 0;
    let requeues = 0;
    let spilled = false;
    let started = false;
    let text = '';
    let tokens = 0;
    let promptTokens = spec.encoded.promptTokens;
    let firstTokenAtMs: number | undefined;
    /** When the last failure was noticed, until the next shard's first token. */
    let failedAt:
      | {
          atMs: number;
          phase: 'before-first-token' | 'mid-stream';
          placedMs?: number;
          admittedMs?: number;
          firstEventMs?: number;
        }
      | undefined;

    const rounds = settings.maxFailovers + MAX_REPLACEMENTS + MAX_FULL_REFUSALS;
    for (let round = 0; round <= rounds; round++) {
      const placed = await this.place(spec, failedOn, sentAway, full);
      if (placed.kind === 'shard-refused') {
        sentAway.push(placed.shardId);
        continue;
      }
      const { decision } = placed;
      const shard = decision.shard;
      if (failedAt !== undefined) failedAt.placedMs = this.deps.clock.nowMs() - failedAt.atMs;
      metrics.placed(decision.reason);
      if (decision.reason === 'spill') spilled = true;
      this.deps.log.debug('turn placed', () => ({
        turnId: spec.turnId,
        conversationId: spec.conversationId,
        shardId: shard.id,
        reason: decision.reason,
        previousShardId: decision.previousShardId,
        score: rounded(decision.scores.total),
        candidates: decision.scores.candidates,
        budgetMs: rounded(decision.scores.budgetMs),
        predictedTtftMs: rounded(decision.scores.predicted.ttftMs),
        predictedWaitMs: rounded(decision.scores.predicted.queueWaitMs),
        predictedTtftOnLeftMs:
          decision.scores.predictedOnLeft && rounded(decision.scores.predictedOnLeft.ttftMs),
        inFlight: shard.load.inFlight,
        pinned: placed.pinned,
      }));
      yield { kind: 'placed', placement: placed };

      let lease: AdmissionLease;
      try {
        // A turn resuming mid-stream takes a slot at once, past the router's queue, and the shard's
        // own admission is the backstop. Once a shard has refused the turn for being full, the turn
        // queues there for a slot like any other (never refused for its budget): it starts as soon
        // as one of this router's streams there ends, instead of asking the full shard again.
        lease =
          tokens > 0 && !full.hasRefused(shard.id)
            ? admission.acquireNow(shard.id, decision.scores.predicted.prefillMs)
            : await admission.acquire(
                shard.id,
                {
                  turnId: spec.turnId,
                  priority: spec.priority,
                  // A turn that failed over before its first token was accepted already, and its
                  // caller is still waiting: it queues for a slot like any turn but is never
                  // refused for a latency budget that its failed shard spent.
                  budgetMs:
                    failedOn.length > 0 ? Number.POSITIVE_INFINITY : decision.scores.budgetMs,
                  prefillMs: decision.scores.predicted.prefillMs,
                },
                signal,
              );
      } catch (error) {
        if (error instanceof ShardLeftQueue && !signal.aborted) {
          sentAway.push(shard.id);
          continue;
        }
        // A failed-over turn refused by this shard's queue (full, or not draining at all) tries
        // the others before it gives up: its caller is already waiting for it.
        if (failedOn.length > 0 && isDomainError(error) && !signal.aborted) {
          sentAway.push(shard.id);
          continue;
        }
        // Admitted on one load report, shed on the next because the shard drains slower than it
        // said: placement, now on the fresh report, may spill the turn where it fits.
        if (isPushedOut(error) && requeues < MAX_REQUEUES && !signal.aborted) {
          requeues++;
          continue;
        }
        if (!signal.aborted)
          this.deps.log.debug('turn refused', {
            turnId: spec.turnId,
            shardId: shard.id,
            error: error instanceof Error ? error.message : String(error),
          });
        throw signal.aborted ? cancellation() : error;
      }

      if (failedAt !== undefined) failedAt.admittedMs = this.deps.clock.nowMs() - failedAt.atMs;
      const attempt = attempts.open(shard.id);
      const attemptSignal = AbortSignal.any([signal, attempt.signal]);
      const stall = this.stallWatch(attempt);
      const tokensBefore = tokens;
      let completed: Extract<GenerateEvent, { kind: 'completed' }> | undefined;
      try {
        const events = inference.generate(
          { shardId: shard.id, endpoint: shard.endpoint },
          {
            requestId: `${spec.turnId}.${round}`,
            conversationId: spec.conversationId,
            tenantId: spec.tenantId,
            model: spec.model,
            messages: spec.messages,
            sampling: remainingSampling(spec.sampling, tokens),
            priority: spec.priority,
            resumeFromText: text,
          },
          attemptSignal,
        );
        for await (const event of events) {
          stall.reset();
          if (failedAt !== undefined)
            failedAt.firstEventMs ??= this.deps.clock.nowMs() - failedAt.atMs;
          switch (event.kind) {
            case 'started':
              // The engine took the request; TurnStarted waits for the first token, so it names
              // the shard that really starts the reply (an engine may die before its first token).
              if (tokens === 0) promptTokens = event.promptTokens;
              break;
            case 'delta':
              lease.prefilled();
              if (!started) {
                started = true;
                yield { kind: 'started', shardId: shard.id, reason: decision.reason };
              }
              if (event.text.length === 0) break;
              firstTokenAtMs ??= this.deps.clock.nowMs();
              if (failedAt !== undefined) {
                const resumedMs = this.deps.clock.nowMs() - failedAt.atMs;
                metrics.resumed(failedAt.phase, resumedMs);
                this.deps.log.debug('turn resumed', {
                  turnId: spec.turnId,
                  shardId: shard.id,
                  phase: failedAt.phase,
                  placedMs: failedAt.placedMs,
                  admittedMs: failedAt.admittedMs,
                  firstEventMs: failedAt.firstEventMs,
                  resumedMs,
                });
                failedAt = undefined;
              }
              // Counted as sent before it is handed over: a failure from here on resumes after it.
              text += event.text;
              yield { kind: 'delta', text: event.text, index: tokens };
              tokens += Math.max(1, this.deps.encoder.countTextTokens(event.text));
              break;
            case 'completed':
              if (event.finishReason === 'error') throw new EngineFinishedWithError(shard.id);
              completed = event;
              break;
            default: {
              const unknown: never = event;
              throw new Error(`unknown generate event ${JSON.stringify(unknown)}`);
            }
          }
        }
        if (completed === undefined) throw new StreamEndedEarly(shard.id);
        if (!started) {
          // An empty reply: still announced before it completes.
          started = true;
          yield { kind: 'started', shardId: shard.id, reason: decision.reason };
        }
      } catch (error) {
        const failure = classifyAttemptFailure(error, signal, attempt.signal);
        if (failure.kind === 'cancelled') throw cancellation();
        if (failure.kind === 'fatal') throw error;
        if (failure.kind === 'busy') {
          if (++fullRefusals > MAX_FULL_REFUSALS) {
            throw new DomainError(
              'SHARD.OVERLOADED',
              `every shard the turn was sent to was full, ${fullRefusals} times; retry shortly`,
              { retryAfterSeconds: 1, details: { shardId: shard.id }, cause: error },
            );
          }
          full.refused(shard.id, this.deps.clock.nowMs(), failure.retryAfterMs);
          this.deps.log.debug('turn refused by a full shard', {
            turnId: spec.turnId,
            shardId: shard.id,
            retryAfterMs: failure.retryAfterMs,
            sentTokens: tokens,
          });
          continue;
        }
        if (failure.suspect) suspects.mark(shard.id);
        if (failovers >= settings.maxFailovers) {
          throw new DomainError(
            'SHARD.UNAVAILABLE',
            `the turn failed on ${failovers + 1} shards in a row; retry shortly`,
            { retryAfterSeconds: 1, details: { shardId: shard.id }, cause: error },
          );
        }
        failovers++;
        failedOn.push(shard.id);
        failedAt = {
          atMs: this.deps.clock.nowMs(),
          phase: tokens > 0 ? 'mid-stream' : 'before-first-token',
        };
        metrics.failedOver(failedAt.phase);
        this.deps.log.warn('turn failing over', {
          turnId: spec.turnId,
          conversationId: spec.conversationId,
          shardId: shard.id,
          cause: failure.cause,
          sentTokens: tokens,
          error: error instanceof Error ? error.message : String(error),
        });
        continue;
      } finally {
        stall.cancel();
        attempt.close();
        lease.release();
      }

      suspects.clear(shard.id);
      const completion = tokensBefore + completed.usage.completionTokens;
      this.deps.replyLengths?.observe(completion);
      yield {
        kind: 'finished',
        result: {
          text,
          shardId: shard.id,
          finishReason: completed.finishReason,
          usage: {
            promptTokens,
            completionTokens: completion,
            totalTokens: promptTokens + completion,
            cachedPromptTokens: completed.usage.cachedPromptTokens,
          },
          failovers,
          spilled,
          firstTokenAtMs,
        },
      };
      return;
    }
    throw new DomainError(
      'SHARD.UNAVAILABLE',
      'no shard would take the turn (each one the router picked was refused by the registry or stopped taking turns); retry shortly',
      { retryAfterSeconds: 1 },
    );
  }

  private async place(
    spec: TurnSpec,
    failedOn: readonly string[],
    sentAway: readonly string[],
    full: FullShards,
  ): Promise<PlacedTurn | Extract<PlaceTurnResult, { kind: 'shard-refused' }>> {
    const hard = [...failedOn, ...sentAway];
    const suspects = this.deps.suspects.list().filter((id) => !hard.includes(id));
    const command = {
      tenantId: spec.tenantId,
      conversationId: spec.conversationId,
      turnId: spec.turnId,
      model: spec.model,
      promptBlocks: spec.encoded.blocks,
      promptTokens: spec.encoded.promptTokens,
      priority: spec.priority,
      ttftBudgetMs: spec.ttftBudgetMs,
      zone: spec.zone,
      purpose: failedOn.length > 0 ? ('failover' as const) : ('turn' as const),
      excludedShardIds: [...hard, ...suspects],
      // A turn that failed over re-pins without waiting for the registry: its caller is waiting.
      pin: spec.pin ? (failedOn.length > 0 ? ('background' as const) : true) : false,
      stored: spec.stored,
    };
    const placeOnce = async (): Promise<PlaceTurnResult> => {
      // A full shard is out only until its retry hint passes: then it is tried like any other.
      const refusing = full.refusingAt(this.deps.clock.nowMs());
      const result = await this.deps.placeTurn.execute({
        ...command,
        excludedShardIds: [...command.excludedShardIds, ...refusing],
      });
      // Suspicion is a hint: with nothing else left, a suspect shard is better than none.
      return result.kind === 'unplaceable' && suspects.length > 0
        ? this.deps.placeTurn.execute({ ...command, excludedShardIds: [...hard, ...refusing] })
        : result;
    };
    let result = await placeOnce();
    // Mid-failover the caller already holds part of a reply, and a turn sent away by a full shard
    // was accepted already: wait a little for a shard (a slot, a late heartbeat) rather than break
    // the stream. A fresh turn is refused at once with a retry hint instead.
    if (result.kind === 'unplaceable' && (failedOn.length > 0 || full.any)) {
      const giveUpAtMs = this.deps.clock.nowMs() + this.deps.settings.failoverWaitMs;
      while (result.kind === 'unplaceable' && this.deps.clock.nowMs() < giveUpAtMs) {
        await this.sleep(Math.min(FAILOVER_RETRY_MS, giveUpAtMs - this.deps.clock.nowMs()));
        result = await placeOnce();
      }
    }
    switch (result.kind) {
      case 'placed':
      case 'shard-refused':
        return result;
      case 'unknown-model':
        throw new DomainError(
          'REQUEST.INVALID',
          `model ${JSON.stringify(result.model)} is not served here; ListModels names the models that are`,
          { details: { field: 'model' } },
        );
      case 'unplaceable':
        if (full.refusingAt(this.deps.clock.nowMs()).length > 0) {
          const retryInMs = full.nextRetryInMs(this.deps.clock.nowMs());
          throw new DomainError(
            'SHARD.OVERLOADED',
            `every shard in pools ${result.pools.join(', ')} that could take the turn is full (${full.ids().join(', ')}); retry in ${retryInMs} ms`,
            { retryAfterSeconds: retryInMs / 1_000, details: { model: spec.model } },
          );
        }
        throw new DomainError(
          'SHARD.UNAVAILABLE',
          hard.length > 0
            ? `no other ready shard in pools ${result.pools.join(', ')} to continue the turn on; retry shortly`
            : `no ready shard serves model ${spec.model} now (pools ${result.pools.join(', ')}); retry shortly`,
          { retryAfterSeconds: 1, details: { model: spec.model } },
        );
      default: {
        const unknown: never = result;
        throw new Error(`unknown placement ${JSON.stringify(unknown)}`);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.deps.timer.schedule(ms, resolve));
  }

  /**
   * Cuts the attempt when the shard stays silent for the stall timeout. One timer per attempt,
   * re-armed for the remaining time when it fires early, rather than one per token.
   */
  private stallWatch(attempt: OpenAttempt): { reset(): void; cancel(): void } {
    const { stallTimeoutMs } = this.deps.settings;
    if (stallTimeoutMs <= 0) return { reset: () => undefined, cancel: () => undefined };
    const { clock, timer } = this.deps;
    let lastEventAtMs = clock.nowMs();
    let cancel: () => void = () => undefined;
    const arm = (ms: number): void => {
      cancel = timer.schedule(ms, () => {
        const silentMs = clock.nowMs() - lastEventAtMs;
        if (silentMs >= stallTimeoutMs) attempt.cut('stalled');
        else arm(stallTimeoutMs - silentMs);
      });
    };
    arm(stallTimeoutMs);
    return {
      reset: () => {
        lastEventAtMs = clock.nowMs();
      },
      cancel: () => cancel(),
    };
  }
}

function isPushedOut(error: unknown): boolean {
  return (
    isDomainError(error) &&
    error.code === 'DEADLINE.UNMEETABLE' &&
    error.details.reason === 'deadline-pushed'
  );
}

function rounded(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** max_tokens counts new tokens only, so a resumed stream may produce what is left of it. */
function remainingSampling(sampling: SamplingParams, sentTokens: number): SamplingParams {
  if (sampling.maxTokens === undefined || sentTokens === 0) return sampling;
  return { ...sampling, maxTokens: Math.max(1, sampling.maxTokens - sentTokens) };
}
