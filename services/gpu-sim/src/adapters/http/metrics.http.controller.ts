import { Controller, Get, Header, Inject } from '@nestjs/common';
import { EngineMetrics } from '../../application/engine-metrics.js';
import { EngineLoop } from '../../application/engine-loop.js';
import { FaultState } from '../../application/faults.js';
import { ServeCompletionUseCase } from '../../application/serve-completion.use-case.js';
import { PrometheusText } from './prometheus-text.js';

/**
 * vLLM's metric names and label set (`model_name`, `engine`). Durations are simulated seconds —
 * what the GPU would have taken — whatever the time scale; `gpu_sim:*` metrics are the simulator's own.
 */
@Controller()
export class MetricsHttpController {
  constructor(
    @Inject(EngineLoop) private readonly loop: EngineLoop,
    @Inject(EngineMetrics) private readonly metrics: EngineMetrics,
    @Inject(ServeCompletionUseCase) private readonly serve: ServeCompletionUseCase,
    @Inject(FaultState) private readonly faults: FaultState,
  ) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  render(): string {
    const engine = this.loop.engine;
    const counters = engine.counters;
    const m = this.metrics;
    const usage = engine.pool.usage;
    return new PrometheusText({ engine: '0', model_name: this.serve.modelName })
      .gauge(
        'vllm:num_requests_running',
        'Number of requests in model execution batches.',
        engine.numRunning,
      )
      .gauge(
        'vllm:num_requests_waiting',
        'Number of requests waiting to be processed.',
        engine.numWaiting,
      )
      .gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', usage)
      .gauge(
        'vllm:gpu_cache_usage_perc',
        'GPU KV-cache usage. 1 means 100 percent usage (pre-V1 name).',
        usage,
      )
      .counter(
        'vllm:prefix_cache_queries_total',
        'Prefix cache queries, in terms of number of queried tokens.',
        counters.prefixCacheQueries,
      )
      .counter(
        'vllm:prefix_cache_hits_total',
        'Prefix cache hits, in terms of number of cached tokens.',
        counters.prefixCacheHits,
      )
      .counter(
        'vllm:num_preemptions_total',
        'Cumulative number of preemption from the engine.',
        counters.preemptions,
      )
      .counter(
        'vllm:prompt_tokens_total',
        'Number of prefill tokens processed.',
        counters.promptTokens,
      )
      .counter(
        'vllm:generation_tokens_total',
        'Number of generation tokens processed.',
        counters.generationTokens,
      )
      .counterByLabel(
        'vllm:request_success_total',
        'Count of successfully processed requests.',
        'finished_reason',
        m.requestSuccess,
      )
      .histogram(
        'vllm:time_to_first_token_seconds',
        'Histogram of time to first token in seconds.',
        m.timeToFirstToken,
      )
      .histogram(
        'vllm:time_per_output_token_seconds',
        'Histogram of time per output token in seconds.',
        m.interToken,
      )
      .histogram(
        'vllm:inter_token_latency_seconds',
        'Histogram of inter-token latency in seconds.',
        m.interToken,
      )
      .histogram(
        'vllm:e2e_request_latency_seconds',
        'Histogram of e2e request latency in seconds.',
        m.e2eLatency,
      )
      .histogram(
        'vllm:request_queue_time_seconds',
        'Histogram of time spent in WAITING phase for request.',
        m.queueTime,
      )
      .histogram(
        'vllm:iteration_tokens_total',
        'Histogram of number of tokens per engine_step.',
        m.iterationTokens,
      )
      .histogram(
        'vllm:request_prompt_tokens',
        'Number of prefill tokens processed.',
        m.requestPromptTokens,
      )
      .histogram(
        'vllm:request_generation_tokens',
        'Number of generation tokens processed.',
        m.requestGenerationTokens,
      )
      .gauge('vllm:cache_config_info', 'Information of the LLMEngine CacheConfig', 1, {
        block_size: String(engine.pool.blockSize),
        num_gpu_blocks: String(engine.pool.numBlocks),
        enable_prefix_caching: 'True',
      })
      .gauge(
        'gpu_sim:simulated_time_seconds',
        'Simulated engine clock.',
        this.loop.simulatedNowMs() / 1000,
      )
      .gauge('gpu_sim:time_scale', 'Wall seconds per simulated second.', this.loop.timeScale)
      .counter('gpu_sim:engine_steps_total', 'Engine steps run.', counters.steps)
      .gauge(
        'gpu_sim:kv_cache_cached_blocks',
        'KV blocks findable by prefix hash.',
        engine.pool.cachedBlocks,
      )
      .counter(
        'gpu_sim:kv_cache_evictions_total',
        'Cached KV blocks evicted for reuse.',
        engine.pool.evictedBlocks,
      )
      .gauge('gpu_sim:fault', 'Injected fault in force.', 1, { mode: this.faults.fault.mode })
      .toString();
  }
}
