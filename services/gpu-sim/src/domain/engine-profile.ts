/**
 * The numbers that make one simulated GPU server behave like a given model on given hardware.
 * Loaded from `profiles/*.json` (which also carry the public sources of each number).
 */
export interface EngineProfile {
  readonly id: string;
  /** The name served on /v1/models unless overridden. */
  readonly modelName: string;
  /** Cold start: weights load, compile, CUDA graphs (simulated ms before /health is 200). */
  readonly modelLoadMs: number;
  /** API-server latency before a request reaches the engine (parse, tokenize, enqueue), ms. */
  readonly frontendOverheadMs: number;
  readonly kvCache: {
    readonly blockSizeTokens: number;
    readonly numBlocks: number;
  };
  readonly scheduler: {
    readonly maxNumSeqs: number;
    readonly maxNumBatchedTokens: number;
    readonly maxModelLen: number;
  };
  readonly timing: StepTiming;
}

/**
 * Step time = stepOverheadMs
 *           + prefillMsPerToken × (uncached prompt tokens in the step)
 *           + prefillAttentionMsPerMillionPairs × (query·key pairs of those tokens) / 1e6
 *           + if any sequence decodes: decodeStepMs(batch) + kvReadMsPerThousandTokens × (their context) / 1000
 * Prefill and decode costs add up in a mixed (chunked-prefill) step; published ITL under
 * concurrent long prompts fits that better than overlapping them.
 */
export interface StepTiming {
  readonly stepOverheadMs: number;
  readonly prefillMsPerToken: number;
  readonly prefillAttentionMsPerMillionPairs: number;
  /** [batch size, ms] points, batch ascending, interpolated linearly and extended flat-sloped. */
  readonly decodeStepMs: readonly (readonly [number, number])[];
  readonly kvReadMsPerThousandTokens: number;
}

/** What one engine step computes, as far as its duration is concerned. */
export interface StepShape {
  readonly prefillTokens: number;
  /** Σ over prefill chunks of chunk × (tokens before the chunk + chunk / 2). */
  readonly prefillAttentionPairs: number;
  readonly decodeSeqs: number;
  /** Σ over decoding sequences of their context length. */
  readonly decodeContextTokens: number;
}

/** Decode step time for a batch, from the profile's table (linear between and beyond points). */
export function decodeStepMs(timing: StepTiming, batch: number): number {
  const table = timing.decodeStepMs;
  const first = table[0];
  if (first === undefined || batch <= 0) return 0;
  if (table.length === 1 || batch <= first[0]) return first[1];
  for (let i = 1; i < table.length; i++) {
    const lo = table[i - 1];
    const hi = table[i];
    if (lo === undefined || hi === undefined) break;
    if (batch <= hi[0] || i === table.length - 1) {
      const slope = (hi[1] - lo[1]) / (hi[0] - lo[0]);
      return lo[1] + slope * (batch - lo[0]);
    }
  }
  return first[1];
}

/** Duration of one engine step in simulated milliseconds. */
export function stepDurationMs(timing: StepTiming, shape: StepShape): number {
  let ms = timing.stepOverheadMs;
  if (shape.prefillTokens > 0) {
    ms += timing.prefillMsPerToken * shape.prefillTokens;
    ms += (timing.prefillAttentionMsPerMillionPairs * shape.prefillAttentionPairs) / 1e6;
  }
  if (shape.decodeSeqs > 0) {
    ms += decodeStepMs(timing, shape.decodeSeqs);
    ms += (timing.kvReadMsPerThousandTokens * shape.decodeContextTokens) / 1000;
  }
  return ms;
}
