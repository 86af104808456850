import type { Engine, ScheduledStep, StepOutputs } from '../domain/engine.js';
import type { SequenceSpec } from '../domain/sequence.js';
import type { EngineMetrics } from './engine-metrics.js';
import type { FaultState } from './faults.js';
import type { ProcessPort, SchedulerPort } from './ports.js';

/** Simulated times (ms) of the first and last token of one delivery. */
export interface DeliverySpan {
  readonly firstMs: number;
  readonly lastMs: number;
}

/** Receives a request's tokens as the engine produces them. */
export interface TokenSink {
  /**
   * `count` new tokens starting at output index `from`; `done` with the last one. Called at most
   * once per request per timer tick, however many steps the tick ran.
   */
  deliver(from: number, count: number, done: boolean, span: DeliverySpan): void;
}

interface Pending {
  from: number;
  count: number;
  done: boolean;
  firstMs: number;
  lastMs: number;
}

/** When each stream was last written to (wall ms). */
interface Held extends Pending {
  readonly id: string;
}

export interface EngineLoopOptions {
  /** Wall time = simulated time × timeScale (0.01 runs 100× faster than the GPU would). */
  readonly timeScale: number;
  /** Simulated API-server latency before a request reaches the engine queue, ms. */
  readonly frontendOverheadMs: number;
  /** Steps per timer callback at most, so a lagging loop still yields to I/O. */
  readonly maxStepsPerTick?: number;
  /**
   * Shortest wall wait between timer callbacks, ms (default 1, Node's timer resolution): steps due
   * sooner are run together in the next callback. Larger values trade token smoothness for CPU.
   */
  readonly minTickMs?: number;
  /**
   * Cap on socket writes per wall second across all streams (0 = none). Above it, a stream that
   * is already flowing gets its tokens coalesced into fewer, larger writes (at most one per
   * running/cap seconds); a first token and a last token always go out at once. This bounds the
   * simulator's CPU at high concurrency; simulated timings and metrics are unaffected.
   */
  readonly maxWritesPerSecond?: number;
}

export type SubmitSpec = Omit<SequenceSpec, 'arrivalMs' | 'readyAtMs'>;

/** Exit status of the "die" fault: what a supervisor sees when an engine is SIGKILLed. */
export const DIE_EXIT_CODE = 137;

/**
 * Drives the pure engine in simulated time. Simulated time advances by exact step durations;
 * wall-clock deadlines are derived from it (origin + simulated × timeScale), so timer lateness
 * never accumulates: a late callback simply runs every step that is due, and all tokens a request
 * got in one callback go out in one write. No timer is ever created per token or per stream.
 */
export class EngineLoop {
  private readonly sinks = new Map<string, TokenSink>();
  /** Tokens produced but not yet written (write-rate cap), by request. */
  private readonly held = new Map<string, Held>();
  private readonly lastWriteWallMs = new Map<string, number>();
  private originWallMs: number;
  private hungSinceWallMs: number | undefined;
  private simNowMs = 0;
  private inFlight: ScheduledStep | undefined;
  private cancelTimer: (() => void) | undefined;
  private timerDueWallMs = Infinity;
  private stopped = false;

  constructor(
    readonly engine: Engine,
    private readonly scheduler: SchedulerPort,
    private readonly metrics: EngineMetrics,
    private readonly faults: FaultState,
    private readonly process: ProcessPort,
    private readonly options: EngineLoopOptions,
  ) {
    if (!(options.timeScale > 0)) throw new RangeError('timeScale must be > 0');
    this.originWallMs = scheduler.now();
    faults.onChange((fault) => this.onFault(fault.mode === 'hang'));
  }

  get timeScale(): number {
    return this.options.timeScale;
  }

  /** Simulated now: the engine's clock, or the wall clock's reading when the engine is behind it. */
  simulatedNowMs(): number {
    return Math.max(this.simNowMs, this.toSim(this.scheduler.now()));
  }

  /** Queues a request; returns its simulated arrival time (ms). */
  submit(spec: SubmitSpec, sink: TokenSink): number {
    if (this.stopped) throw new Error('engine loop stopped');
    const arrivalMs = this.toSim(this.scheduler.now());
    if (!this.inFlight) this.simNowMs = Math.max(this.simNowMs, arrivalMs);
    this.engine.submit({
      ...spec,
      arrivalMs,
      readyAtMs: arrivalMs + this.options.frontendOverheadMs,
    });
    this.sinks.set(spec.id, sink);
    if (!this.inFlight) this.wakeAtSim(arrivalMs + this.options.frontendOverheadMs);
    return arrivalMs;
  }

  /** Cancels a request (client went away); its KV blocks are freed at once. */
  abort(id: string): boolean {
    this.sinks.delete(id);
    this.held.delete(id);
    this.lastWriteWallMs.delete(id);
    const known = this.engine.abort(id);
    if (known) this.metrics.recordFinishReason('abort');
    return known;
  }

  /** Stops stepping and drops every timer (shutdown). */
  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private onFault(hang: boolean): void {
    const now = this.scheduler.now();
    if (hang) {
      this.hungSinceWallMs ??= now;
      return;
    }
    if (this.hungSinceWallMs !== undefined) {
      // Resume where the engine stopped instead of replaying the hung time in a burst.
      this.originWallMs += now - this.hungSinceWallMs;
      this.hungSinceWallMs = undefined;
    }
    this.wake(0);
  }

  private toSim(wallMs: number): number {
    return (wallMs - this.originWallMs) / this.options.timeScale;
  }

  private toWall(simMs: number): number {
    return this.originWallMs + simMs * this.options.timeScale;
  }

  private wakeAtSim(simMs: number): void {
    this.wake(Math.max(0, this.toWall(simMs) - this.scheduler.now()));
  }

  private wake(delayMs: number): void {
    if (this.stopped) return;
    const delay = Math.max(delayMs, this.options.minTickMs ?? 1);
    const due = this.scheduler.now() + delay;
    if (this.cancelTimer && this.timerDueWallMs <= due) return;
    this.cancelTimer?.();
    this.timerDueWallMs = due;
    this.cancelTimer = this.scheduler.after(delay, () => this.tick());
  }

  private tick(): void {
    this.cancelTimer = undefined;
    this.timerDueWallMs = Infinity;
    if (this.stopped || this.faults.fault.mode === 'hang') return;
    const horizon = this.toSim(this.scheduler.now());
    const maxSteps = this.options.maxStepsPerTick ?? 2000;
    const pending = this.held;

    for (let steps = 0; steps < maxSteps; steps++) {
      if (this.inFlight) {
        const endMs = this.inFlight.startMs + this.inFlight.durationMs;
        if (endMs > horizon) break;
        const outputs = this.engine.complete(this.inFlight);
        this.inFlight = undefined;
        this.simNowMs = endMs;
        this.collect(outputs, pending);
      }
      const step = this.engine.schedule(this.simNowMs, this.faults.stepFactor);
      if (!step) {
        // Idle until the next queued request clears the API server, if that is already due.
        const ready = this.engine.nextReadyAtMs();
        if (ready !== undefined && ready > this.simNowMs && ready <= horizon) {
          this.simNowMs = ready;
          continue;
        }
        break;
      }
      this.inFlight = step;
    }

    this.deliver(pending);
    if (this.inFlight) this.wakeAtSim(this.inFlight.startMs + this.inFlight.durationMs);
    else {
      const ready = this.engine.nextReadyAtMs();
      if (ready !== undefined) this.wakeAtSim(Math.max(ready, this.simNowMs));
    }
  }

  private collect(outputs: StepOutputs, pending: Map<string, Held>): void {
    this.metrics.recordStep(outputs);
    for (const token of outputs.emitted) {
      const entry = pending.get(token.id);
      if (entry) {
        entry.count++;
        entry.done = token.last;
        entry.lastMs = outputs.endMs;
      } else {
        pending.set(token.id, {
          id: token.id,
          from: token.index,
          count: 1,
          done: token.last,
          firstMs: outputs.endMs,
          lastMs: outputs.endMs,
        });
      }
    }
  }

  /** Writes what is due; under the write-rate cap, flowing streams may wait for a later tick. */
  private deliver(pending: Map<string, Held>): void {
    const fault = this.faults.fault;
    const now = this.scheduler.now();
    const cap = this.options.maxWritesPerSecond ?? 0;
    // With nothing in flight no later tick is coming: write everything now.
    const minGapMs = cap > 0 && this.inFlight ? (1000 * this.engine.numRunning) / cap : 0;
    for (const [id, { from, count, done, firstMs, lastMs }] of pending) {
      const sink = this.sinks.get(id);
      if (!sink) {
        pending.delete(id);
        continue;
      }
      const last = this.lastWriteWallMs.get(id);
      if (minGapMs > 0 && !done && last !== undefined && now - last < minGapMs) continue;
      pending.delete(id);
      if (done) {
        this.sinks.delete(id);
        this.lastWriteWallMs.delete(id);
      } else {
        this.lastWriteWallMs.set(id, now);
      }
      if (fault.mode === 'die' && from + count >= fault.afterTokens) {
        // Emit exactly up to the threshold, then vanish like a crashed engine.
        const allowed = Math.max(0, fault.afterTokens - from);
        if (allowed > 0) sink.deliver(from, allowed, false, { firstMs, lastMs });
        this.process.exit(DIE_EXIT_CODE);
        return;
      }
      sink.deliver(from, count, done, { firstMs, lastMs });
    }
  }
}
