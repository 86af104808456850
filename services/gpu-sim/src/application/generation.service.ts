import type { FinishReason, PlannedReply } from '../domain/reply-text.js';
import type { EngineMetrics } from './engine-metrics.js';
import { DIE_EXIT_CODE, type EngineLoop } from './engine-loop.js';
import type { FaultState } from './faults.js';
import type { ProcessPort, SchedulerPort } from './ports.js';

/** Token id a reply with no text still "generates" (the end-of-sequence token), so it takes a step. */
const END_OF_SEQUENCE_ID = 6;

/** When a generation happened, in simulated milliseconds since the server started. */
export interface GenerationTimings {
  readonly arrivalMs: number;
  readonly firstTokenMs: number;
  readonly lastTokenMs: number;
}

/** Receives one generation's text as it is produced. */
export interface GenerationListener {
  /**
   * Texts of output tokens `firstIndex`, `firstIndex + 1`, …; several per call when batched. The
   * last call carries the finish reason (its `texts` may be empty when the reply has no text) and
   * the generation's simulated timings.
   */
  onTokens(
    texts: readonly string[],
    firstIndex: number,
    finish?: FinishReason,
    timings?: GenerationTimings,
  ): void;
}

export interface Generation {
  readonly id: string;
  cancel(): void;
}

/**
 * Runs planned replies through the engine: the engine decides when each token exists, the plan
 * decides what it says. Tracks open generations for drain on shutdown.
 */
export class GenerationService {
  private readonly open = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly loop: EngineLoop,
    private readonly metrics: EngineMetrics,
    private readonly faults: FaultState,
    private readonly process: ProcessPort,
    private readonly scheduler: SchedulerPort,
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  start(id: string, plan: PlannedReply, listener: GenerationListener): Generation {
    const fault = this.faults.fault;
    if (fault.mode === 'die' && fault.afterTokens === 0) this.process.exit(DIE_EXIT_CODE);
    const texts = plan.tokens;
    const outputTokenIds = plan.tokenIds.length > 0 ? plan.tokenIds : [END_OF_SEQUENCE_ID];
    this.open.add(id);
    let firstTokenMs: number | undefined;
    // The sink runs on later timer ticks, after `arrivalMs` is assigned.
    const arrivalMs: number = this.loop.submit(
      { id, promptTokenIds: plan.promptTokenIds, outputTokenIds },
      {
        deliver: (from, count, done, span) => {
          const end = Math.min(from + count, texts.length);
          const slice = end > from ? texts.slice(from, end) : [];
          firstTokenMs ??= span.firstMs;
          if (done) {
            this.close(id);
            this.metrics.recordFinishReason(plan.finishReason);
            listener.onTokens(slice, from, plan.finishReason, {
              arrivalMs,
              firstTokenMs,
              lastTokenMs: span.lastMs,
            });
          } else if (slice.length > 0) {
            listener.onTokens(slice, from);
          }
        },
      },
    );
    return {
      id,
      cancel: () => {
        if (!this.open.has(id)) return;
        this.loop.abort(id);
        this.close(id);
      },
    };
  }

  /** Resolves when no generation is open (or after `timeoutMs` wall ms); true if idle. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const cancel = this.scheduler.after(timeoutMs, () => resolve(this.open.size === 0));
      this.idleWaiters.push(() => {
        cancel();
        resolve(true);
      });
    });
  }

  private close(id: string): void {
    this.open.delete(id);
    if (this.open.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
