import type { FinishReason } from '../domain/reply-text.js';
import type { FinishedSequence, StepOutputs } from '../domain/engine.js';
import { Histogram, VLLM_BUCKETS, oneTwoFiveBuckets } from './histogram.js';

/**
 * Request-level statistics in simulated seconds, named after vLLM's. Engine-level gauges and
 * counters (running, waiting, KV usage, prefix cache, preemptions, token totals) are read from the
 * engine itself when /metrics is scraped.
 */
export class EngineMetrics {
  readonly timeToFirstToken = new Histogram(VLLM_BUCKETS.timeToFirstToken);
  readonly interToken = new Histogram(VLLM_BUCKETS.interToken);
  readonly e2eLatency = new Histogram(VLLM_BUCKETS.requestLatency);
  readonly queueTime = new Histogram(VLLM_BUCKETS.requestLatency);
  readonly iterationTokens = new Histogram(VLLM_BUCKETS.iterationTokens);
  readonly requestPromptTokens: Histogram;
  readonly requestGenerationTokens: Histogram;
  readonly requestSuccess: Record<FinishReason | 'abort', number> = {
    stop: 0,
    length: 0,
    abort: 0,
  };

  constructor(maxModelLen: number) {
    this.requestPromptTokens = new Histogram(oneTwoFiveBuckets(maxModelLen));
    this.requestGenerationTokens = new Histogram(oneTwoFiveBuckets(maxModelLen));
  }

  recordStep(outputs: StepOutputs): void {
    this.iterationTokens.observe(outputs.batchedTokens);
    for (const ms of outputs.timeToFirstTokenMs) this.timeToFirstToken.observe(ms / 1000);
    for (const ms of outputs.interTokenMs) this.interToken.observe(ms / 1000);
    for (const finished of outputs.finished) this.recordFinished(finished);
  }

  recordFinishReason(reason: FinishReason | 'abort'): void {
    this.requestSuccess[reason]++;
  }

  private recordFinished(finished: FinishedSequence): void {
    this.e2eLatency.observe((finished.endMs - finished.arrivalMs) / 1000);
    this.queueTime.observe((finished.firstScheduledMs - finished.arrivalMs) / 1000);
    this.requestPromptTokens.observe(finished.promptTokens);
    this.requestGenerationTokens.observe(finished.generatedTokens);
  }
}
