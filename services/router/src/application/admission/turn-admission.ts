import {
  admitTurn,
  drainMs,
  drainRatePerSecond,
  type PriorityTier,
  type LatencyModelConfig,
  type ShardDirectory,
  type ShardLoad,
  type ShardQueues,
  type TurnRefusal,
  type TurnToAdmit,
} from '../../domain/index.js';
import type { Clock } from '../clock.port.js';
import type { RouterMetrics } from '../router-metrics.port.js';
import { refusalCode, refusalError } from './refusal-error.js';

/** A stream slot on one shard; release it when the stream ends, however it ends. */
export interface AdmissionLease {
  readonly shardId: string;
  /** Idempotent. The first token arrived: the turn's prefill no longer delays the shard's next. */
  prefilled(): void;
  /** Idempotent (and prefilled(), if it was not). The next queued turn for the shard may start. */
  release(): void;
}

/**
 * The shard stopped taking turns (failed, draining, removed) while this turn waited for it: place
 * the turn again elsewhere. Not a failure of the turn.
 */
export class ShardLeftQueue extends Error {
  constructor(readonly shardId: string) {
    super(`shard ${shardId} stopped taking turns while the turn waited for it`);
    this.name = 'ShardLeftQueue';
  }
}

interface Waiter {
  readonly shardId: string;
  grant(): void;
  refuse(error: Error): void;
}

export interface TurnAdmissionDependencies {
  readonly shards: ShardDirectory;
  readonly queues: ShardQueues;
  readonly clock: Clock;
  readonly latency: LatencyModelConfig;
  readonly metrics: RouterMetrics;
}

/**
 * Stream slots per shard and the bounded, deadline-aware queue in front of each (domain
 * ShardQueue). A shard's in-flight count, as placement and admission read it from the directory,
 * is the streams this router holds there now (exact) plus what other router replicas held at the
 * shard's last load report (stale by one heartbeat at most): so one router sees its own releases
 * at once instead of waiting for the next heartbeat. Likewise the shard's prefill backlog: the
 * predicted prefill of this router's streams there that have no first token yet.
 *
 * A placed turn starts at once when its shard has a free slot and nobody of its priority waits;
 * otherwise it waits in the queue, from which it leaves with a slot, or with an early refusal
 * (DEADLINE.UNMEETABLE / ADMISSION.SHED plus a retry hint) as soon as its deadline cannot be met:
 * never by timing out.
 */
export class TurnAdmission {
  private readonly own = new Map<string, number>();
  private readonly others = new Map<string, number>();
  private readonly backlogMs = new Map<string, number>();
  /** This router's streams per shard that have not had their first token yet. */
  private readonly prefilling = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter>();

  constructor(private readonly deps: TurnAdmissionDependencies) {}

  /**
   * Resolves with a slot, or rejects with a refusal DomainError, ShardLeftQueue, or the abort of
   * `signal` (the caller went away; the turn leaves the queue).
   */
  acquire(shardId: string, turn: TurnToAdmit, signal: AbortSignal): Promise<AdmissionLease> {
    const { shards, queues, clock, latency } = this.deps;
    signal.throwIfAborted();
    const shard = shards.get(shardId);
    if (shard?.state !== 'ready') return Promise.reject(new ShardLeftQueue(shardId));
    const queue = queues.of(shardId);
    const admission = admitTurn(shard, queue, turn, clock.nowMs(), latency);
    switch (admission.kind) {
      case 'dispatch':
        return Promise.resolve(this.open(shardId, turn.prefillMs));
      case 'refused':
        return Promise.reject(this.refusal(admission.refusal, shardId));
      case 'queued':
        break;
      default: {
        const unknown: never = admission;
        throw new Error(`unknown admission ${JSON.stringify(unknown)}`);
      }
    }
    this.answer(admission.shed, shardId);
    return new Promise<AdmissionLease>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.waiting.delete(turn.turnId)) queue.remove(turn.turnId);
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(turn.turnId, {
        shardId,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.open(shardId, turn.prefillMs));
        },
        refuse: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      // A slot may have freed between the load view admitTurn read and now.
      this.pump(shardId);
    });
  }

  /**
   * A slot at once, past the queue and the shard's bound: for a turn resuming mid-stream after its
   * shard failed, whose caller is already reading the reply. Refusing it now would break a stream
   * that has text on screen; the shard's own admission is the backstop (SHARD.OVERLOADED sends it
   * on to yet another shard).
   */
  acquireNow(shardId: string, prefillMs: number): AdmissionLease {
    return this.open(shardId, prefillMs);
  }

  /**
   * A load report from the shard: whatever it has in flight beyond this router's own streams
   * belongs to other replicas. Written to the directory with the report's other figures.
   */
  applyLoadReport(shardId: string, load: ShardLoad, recentPrefixBlocks: ArrayLike<number>): void {
    const own = this.own.get(shardId) ?? 0;
    const others = Math.max(0, load.inFlight - own);
    this.others.set(shardId, others);
    const prefillBacklogMs = this.backlogMs.get(shardId) ?? 0;
    this.deps.shards.reportLoad(
      shardId,
      { ...load, inFlight: own + others, prefillBacklogMs },
      recentPrefixBlocks,
    );
    this.pump(shardId);
  }

  /** The shard takes no more turns: everyone waiting for it is placed again elsewhere. */
  shardLeft(shardId: string): void {
    for (const turn of this.deps.queues.drop(shardId)) {
      const waiter = this.waiting.get(turn.turnId);
      if (waiter === undefined) continue;
      this.waiting.delete(turn.turnId);
      waiter.refuse(new ShardLeftQueue(shardId));
    }
    this.others.delete(shardId);
  }

  /**
   * Time passed: refuses queued turns that can no longer start by their deadline at the shard's
   * current drain rate, and starts those a slot has freed for. Called on a short interval.
   */
  sweep(): void {
    const nowMs = this.deps.clock.nowMs();
    for (const shardId of new Set([...this.waiting.values()].map((waiter) => waiter.shardId))) {
      const shard = this.deps.shards.get(shardId);
      if (shard === undefined || shard.state !== 'ready') {
        this.shardLeft(shardId);
        continue;
      }
      const rate = drainRatePerSecond(shard, this.deps.latency);
      this.answer(this.deps.queues.of(shardId).shedUnmeetable(nowMs, rate), shardId);
      this.pump(shardId);
    }
  }

  /** Turns waiting per shard (the queue-depth gauge). */
  queueDepths(): Map<string, number> {
    const depths = new Map<string, number>();
    for (const { shardId } of this.waiting.values())
      depths.set(shardId, (depths.get(shardId) ?? 0) + 1);
    return depths;
  }

  /**
   * Turns on the shard waiting for their first token: this router's streams there that have not had
   * it, and its queue for the shard, or the engine's own queue at its last report when that is
   * longer (other replicas' turns). What a spill's recomputed prefill is charged to.
   */
  turnsAwaitingFirstToken(shardId: string): number {
    const own =
      (this.prefilling.get(shardId) ?? 0) + this.deps.queues.queuedAhead(shardId, 'batch');
    return Math.max(own, this.deps.shards.get(shardId)?.load.waiting ?? 0);
  }

  /**
   * Whether `acquire` would refuse the turn on the shard now: it would have to queue for a stream
   * slot (none free, or turns of its priority waiting) and could not start by its deadline, or the
   * queue is full. A dry run: nothing changes. A spill that would otherwise be declined for its cost
   * is taken when staying home means this.
   */
  wouldRefuse(
    shardId: string,
    turn: {
      readonly priority: PriorityTier;
      readonly budgetMs: number;
      readonly prefillMs: number;
    },
  ): boolean {
    const { shards, queues, latency } = this.deps;
    const shard = shards.get(shardId);
    if (shard?.state !== 'ready') return true;
    const ahead = queues.queuedAhead(shardId, turn.priority);
    if (shard.load.inFlight < shard.capacity.maxInFlight && ahead === 0) return false;
    if (ahead >= queues.capacityPerShard) return true;
    const rate = drainRatePerSecond(shard, latency);
    if (!(rate > 0)) return true;
    return drainMs(ahead + 1, rate) > Math.max(0, turn.budgetMs - turn.prefillMs);
  }

  /** Streams this router has open on the shard. */
  openStreams(shardId: string): number {
    return this.own.get(shardId) ?? 0;
  }

  /** Streams this router has open, on every shard. */
  openStreamCount(): number {
    let total = 0;
    for (const count of this.own.values()) total += count;
    return total;
  }

  private open(shardId: string, prefillMs: number): AdmissionLease {
    const prefill = Math.max(0, prefillMs);
    add(this.own, shardId, 1);
    add(this.backlogMs, shardId, prefill);
    add(this.prefilling, shardId, 1);
    this.showLoad(shardId);
    let prefilled = false;
    let released = false;
    const endPrefill = (): void => {
      if (prefilled) return;
      prefilled = true;
      add(this.backlogMs, shardId, -prefill);
      add(this.prefilling, shardId, -1);
    };
    return {
      shardId,
      prefilled: () => {
        if (prefilled || released) return;
        endPrefill();
        this.showLoad(shardId);
      },
      release: () => {
        if (released) return;
        released = true;
        endPrefill();
        add(this.own, shardId, -1);
        this.showLoad(shardId);
        this.pump(shardId);
      },
    };
  }

  /** Writes this router's live counts for the shard into the directory's view of its load. */
  private showLoad(shardId: string): void {
    const view = this.deps.shards.get(shardId);
    if (view === undefined) return;
    const inFlight = (this.own.get(shardId) ?? 0) + (this.others.get(shardId) ?? 0);
    const prefillBacklogMs = this.backlogMs.get(shardId) ?? 0;
    if (view.load.inFlight !== inFlight || view.load.prefillBacklogMs !== prefillBacklogMs)
      this.deps.shards.upsert({ ...view, load: { ...view.load, inFlight, prefillBacklogMs } });
  }

  /** Starts queued turns while the shard has free slots. */
  private pump(shardId: string): void {
    const shard = this.deps.shards.get(shardId);
    if (shard?.state !== 'ready') return;
    const queue = this.deps.queues.of(shardId);
    while (queue.size > 0) {
      const view = this.deps.shards.get(shardId);
      if (view === undefined || view.load.inFlight >= view.capacity.maxInFlight) return;
      const next = queue.dequeue();
      if (next === undefined) return;
      const waiter = this.waiting.get(next.turnId);
      if (waiter === undefined) continue;
      this.waiting.delete(next.turnId);
      waiter.grant();
    }
  }

  private answer(refusals: readonly TurnRefusal[], shardId: string): void {
    for (const refusal of refusals) {
      const waiter = this.waiting.get(refusal.turn.turnId);
      if (waiter === undefined) continue;
      this.waiting.delete(refusal.turn.turnId);
      waiter.refuse(this.refusal(refusal, shardId));
    }
  }

  private refusal(refusal: TurnRefusal, shardId: string): Error {
    this.deps.metrics.refused(refusalCode(refusal), refusal.reason);
    return refusalError(refusal, shardId);
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error('the caller cancelled the turn');
  error.name = 'AbortError';
  return error;
}

/** Adds to a per-shard tally, dropping the entry at zero (or below, from float rounding). */
function add(tally: Map<string, number>, shardId: string, amount: number): void {
  const next = (tally.get(shardId) ?? 0) + amount;
  if (next <= 1e-9) tally.delete(shardId);
  else tally.set(shardId, next);
}
