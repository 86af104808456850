import { PRIORITY_RANK, type PriorityTier } from '../placement/placement-request.js';
import { deadlineRetryMs, drainMs, retryHint, type RetryHint } from './retry-hint.js';

/** A turn waiting for a stream slot on one shard. */
export interface QueuedTurn {
  readonly turnId: string;
  readonly priority: PriorityTier;
  /** Epoch ms by which the turn must have started to meet its first-token budget. */
  readonly deadlineMs: number;
  readonly enqueuedAtMs: number;
}

/**
 * Why a turn gets an early "no":
 * - deadline-unmeetable: at its place in line it would start after its deadline;
 * - queue-full: the queue is full of turns of its priority or higher;
 * - evicted: a higher-priority turn took its place in a full queue;
 * - deadline-pushed: turns placed ahead of it (or a slower drain) moved it past its deadline.
 */
export type RefusalReason = 'deadline-unmeetable' | 'queue-full' | 'evicted' | 'deadline-pushed';

export interface TurnRefusal extends RetryHint {
  readonly turn: QueuedTurn;
  readonly reason: RefusalReason;
}

export type EnqueueOutcome =
  | {
      readonly kind: 'queued';
      /** Turns ahead of it. */
      readonly position: number;
      readonly predictedStartMs: number;
      /** Turns this one displaced; each must be answered with its refusal now. */
      readonly shed: readonly TurnRefusal[];
    }
  | { readonly kind: 'refused'; readonly refusal: TurnRefusal };

interface Entry {
  readonly turn: QueuedTurn;
  readonly rank: number;
  readonly seq: number;
}

/**
 * One shard's bounded queue: highest priority first, then earliest deadline, then arrival. It never
 * holds a turn it predicts will miss its deadline: such a turn is refused when it arrives, or shed
 * as soon as something moves it past its deadline, each time with a retry hint from the shard's
 * drain rate, so no caller is left to time out. Positions predict start times at the drain rate the
 * caller passes (see spill/latency-model.ts drainRatePerSecond).
 */
export class ShardQueue {
  private readonly entries: Entry[] = [];
  private seq = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.length;
  }

  enqueue(turn: QueuedTurn, nowMs: number, drainRatePerSecond: number): EnqueueOutcome {
    const entry: Entry = { turn, rank: PRIORITY_RANK[turn.priority], seq: this.seq++ };
    const position = this.insertionIndex(entry);
    if (!(drainRatePerSecond > 0)) {
      // Nothing is draining (a stalled shard): no start can be promised.
      return refused(turn, 'deadline-unmeetable', Number.POSITIVE_INFINITY);
    }
    const startMs = nowMs + drainMs(position + 1, drainRatePerSecond);
    if (startMs > turn.deadlineMs) {
      return refused(
        turn,
        'deadline-unmeetable',
        deadlineRetryMs(position, turn.deadlineMs - nowMs, drainRatePerSecond),
      );
    }
    const shed: TurnRefusal[] = [];
    if (this.entries.length >= this.capacity) {
      const last = this.entries[this.entries.length - 1];
      if (last === undefined || last.rank >= entry.rank) {
        return refused(turn, 'queue-full', drainMs(position + 1, drainRatePerSecond));
      }
      this.entries.pop();
      // It now has the rest of the queue and the newcomer ahead of it.
      shed.push(
        refusal(last.turn, 'evicted', drainMs(this.entries.length + 2, drainRatePerSecond)),
      );
    }
    this.entries.splice(position, 0, entry);
    shed.push(...this.shedLate(position + 1, nowMs, drainRatePerSecond, 'deadline-pushed'));
    return { kind: 'queued', position, predictedStartMs: startMs, shed };
  }

  /** The next turn to start, if any. */
  dequeue(): QueuedTurn | undefined {
    return this.entries.shift()?.turn;
  }

  peek(): QueuedTurn | undefined {
    return this.entries[0]?.turn;
  }

  /** A cancelled turn leaves the line. */
  remove(turnId: string): boolean {
    const at = this.entries.findIndex((entry) => entry.turn.turnId === turnId);
    if (at < 0) return false;
    this.entries.splice(at, 1);
    return true;
  }

  /**
   * Sheds every turn that can no longer start by its deadline at the current drain rate: call it when
   * time passes or the shard's load report slows its drain.
   */
  shedUnmeetable(nowMs: number, drainRatePerSecond: number): TurnRefusal[] {
    return this.shedLate(0, nowMs, drainRatePerSecond, 'deadline-pushed');
  }

  /** Turns that would start before a new turn of this priority (for the spill prediction). */
  queuedAhead(priority: PriorityTier): number {
    const rank = PRIORITY_RANK[priority];
    let ahead = 0;
    for (const entry of this.entries) if (entry.rank >= rank) ahead++;
    return ahead;
  }

  turns(): QueuedTurn[] {
    return this.entries.map((entry) => entry.turn);
  }

  private insertionIndex(entry: Entry): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = this.entries[middle];
      if (other !== undefined && goesBefore(other, entry)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private shedLate(
    from: number,
    nowMs: number,
    drainRatePerSecond: number,
    reason: RefusalReason,
  ): TurnRefusal[] {
    const shed: TurnRefusal[] = [];
    let kept = from;
    for (let i = from; i < this.entries.length; i++) {
      const entry = this.entries[i];
      if (entry === undefined) continue;
      const startMs =
        drainRatePerSecond > 0
          ? nowMs + drainMs(kept + 1, drainRatePerSecond)
          : Number.POSITIVE_INFINITY;
      if (startMs > entry.turn.deadlineMs) {
        const retryMs =
          drainRatePerSecond > 0
            ? deadlineRetryMs(
                kept,
                entry.turn.deadlineMs - entry.turn.enqueuedAtMs,
                drainRatePerSecond,
              )
            : Number.POSITIVE_INFINITY;
        shed.push(refusal(entry.turn, reason, retryMs));
      } else {
        this.entries[kept++] = entry;
      }
    }
    this.entries.length = kept;
    return shed;
  }
}

function goesBefore(a: Entry, b: Entry): boolean {
  if (a.rank !== b.rank) return a.rank > b.rank;
  if (a.turn.deadlineMs !== b.turn.deadlineMs) return a.turn.deadlineMs < b.turn.deadlineMs;
  return a.seq < b.seq;
}

function refusal(turn: QueuedTurn, reason: RefusalReason, retryMs: number): TurnRefusal {
  return { turn, reason, ...retryHint(retryMs) };
}

function refused(turn: QueuedTurn, reason: RefusalReason, retryMs: number): EnqueueOutcome {
  return { kind: 'refused', refusal: refusal(turn, reason, retryMs) };
}
