import type { EngineDialect } from './engine-dialect.js';
import { compactSample, openAiChatBody } from './engine-dialect.js';
import { histogramOfFirst, meanOfFirst, sumOfFirst } from '../prometheus-text.js';

/**
 * vLLM's OpenAI server. A partial assistant reply is continued with its chat-template extensions
 * `continue_final_message` + `add_generation_prompt: false`. Metric names cover V1
 * (`kv_cache_usage_perc`, `prefix_cache_*`, `inter_token_latency_seconds`) and the older V0 names.
 */
export const vllmDialect: EngineDialect = {
  kind: 'vllm',
  chatPath: '/v1/chat/completions',
  healthPath: '/health',
  metricsPath: '/metrics',
  chatBody(request, stream) {
    const body = openAiChatBody(request, stream);
    if (request.continueFinalMessage) {
      body.continue_final_message = true;
      body.add_generation_prompt = false;
    }
    return body;
  },
  loadFromMetrics(samples) {
    return compactSample({
      running: sumOfFirst(samples, ['vllm:num_requests_running']),
      waiting: sumOfFirst(samples, ['vllm:num_requests_waiting']),
      kvCacheUsage: meanOfFirst(samples, ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc']),
      prefixCacheQueries: sumOfFirst(samples, [
        'vllm:prefix_cache_queries_total',
        'vllm:prefix_cache_queries',
        'vllm:gpu_prefix_cache_queries_total',
        'vllm:gpu_prefix_cache_queries',
      ]),
      prefixCacheHits: sumOfFirst(samples, [
        'vllm:prefix_cache_hits_total',
        'vllm:prefix_cache_hits',
        'vllm:gpu_prefix_cache_hits_total',
        'vllm:gpu_prefix_cache_hits',
      ]),
      prefixCacheHitRate: meanOfFirst(samples, ['vllm:gpu_prefix_cache_hit_rate']),
      ttftSeconds: histogramOfFirst(samples, ['vllm:time_to_first_token_seconds']),
      itlSeconds: histogramOfFirst(samples, [
        'vllm:inter_token_latency_seconds',
        'vllm:time_per_output_token_seconds',
      ]),
      queueSeconds: histogramOfFirst(samples, ['vllm:request_queue_time_seconds']),
    });
  },
};
