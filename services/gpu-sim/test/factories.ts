import type { EngineProfile, StepTiming } from '../src/domain/engine-profile.js';
import type { SequenceSpec } from '../src/domain/sequence.js';

/** A small, round-numbered engine profile; override what a test is about. */
export function testProfile(
  overrides: {
    numBlocks?: number;
    maxNumSeqs?: number;
    maxNumBatchedTokens?: number;
    maxModelLen?: number;
    timing?: Partial<StepTiming>;
    modelLoadMs?: number;
    frontendOverheadMs?: number;
  } = {},
): EngineProfile {
  return {
    id: 'test',
    modelName: 'test-model',
    modelLoadMs: overrides.modelLoadMs ?? 0,
    frontendOverheadMs: overrides.frontendOverheadMs ?? 0,
    kvCache: { blockSizeTokens: 16, numBlocks: overrides.numBlocks ?? 1024 },
    scheduler: {
      maxNumSeqs: overrides.maxNumSeqs ?? 64,
      maxNumBatchedTokens: overrides.maxNumBatchedTokens ?? 2048,
      maxModelLen: overrides.maxModelLen ?? 8192,
    },
    timing: {
      stepOverheadMs: 1,
      prefillMsPerToken: 0.01,
      prefillAttentionMsPerMillionPairs: 0,
      decodeStepMs: [
        [1, 5],
        [64, 10],
      ],
      kvReadMsPerThousandTokens: 0,
      ...overrides.timing,
    },
  };
}

let nextId = 0;

/** Prompt token ids 1000+seed·10000+i: distinct per `seed`, equal for equal seeds. */
export function promptIds(length: number, seed = nextId++): number[] {
  return Array.from({ length }, (_, i) => 1000 + seed * 10_000 + i);
}

export function sequenceSpec(
  overrides: Partial<SequenceSpec> & { promptLength?: number; outputLength?: number } = {},
): SequenceSpec {
  const id = overrides.id ?? `r${nextId++}`;
  return {
    id,
    promptTokenIds: overrides.promptTokenIds ?? promptIds(overrides.promptLength ?? 32),
    outputTokenIds:
      overrides.outputTokenIds ??
      Array.from({ length: overrides.outputLength ?? 4 }, (_, i) => 500 + i),
    arrivalMs: overrides.arrivalMs ?? 0,
    readyAtMs: overrides.readyAtMs ?? 0,
  };
}

/** A manual clock for the SchedulerPort: timers fire only when the test advances time. */
export class FakeScheduler {
  nowMs = 0;
  timersCreated = 0;
  private timers: { due: number; seq: number; callback: () => void; cancelled: boolean }[] = [];
  private seq = 0;

  now(): number {
    return this.nowMs;
  }

  after(delayMs: number, callback: () => void): () => void {
    this.timersCreated++;
    const timer = {
      due: this.nowMs + Math.max(delayMs, 0),
      seq: this.seq++,
      callback,
      cancelled: false,
    };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves the clock forward, firing due timers in order (bounded). */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const next = this.timers
        .filter((t) => t.due <= target)
        .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.nowMs = Math.max(this.nowMs, next.due);
      next.cancelled = true;
      next.callback();
    }
    this.nowMs = target;
  }
}
