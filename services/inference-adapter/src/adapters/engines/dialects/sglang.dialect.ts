import type { EngineDialect } from './engine-dialect.js';
import { compactSample, openAiChatBody } from './engine-dialect.js';
import { histogramOfFirst, meanOfFirst, sumOfFirst } from '../prometheus-text.js';

/**
 * SGLang's OpenAI server (metrics need `--enable-metrics`). It accepts the same
 * `continue_final_message` extension as vLLM. `token_usage` is the fraction of KV tokens in use;
 * `cache_hit_rate` is a gauge, so the prefix hit ratio is SGLang's own, not one over our window.
 */
export const sglangDialect: EngineDialect = {
  kind: 'sglang',
  chatPath: '/v1/chat/completions',
  healthPath: '/health',
  metricsPath: '/metrics',
  chatBody(request, stream) {
    const body = openAiChatBody(request, stream);
    if (request.continueFinalMessage) body.continue_final_message = true;
    return body;
  },
  loadFromMetrics(samples) {
    return compactSample({
      running: sumOfFirst(samples, ['sglang:num_running_reqs']),
      waiting: sumOfFirst(samples, ['sglang:num_queue_reqs']),
      kvCacheUsage: meanOfFirst(samples, ['sglang:token_usage']),
      prefixCacheQueries: undefined,
      prefixCacheHits: undefined,
      prefixCacheHitRate: meanOfFirst(samples, ['sglang:cache_hit_rate']),
      ttftSeconds: histogramOfFirst(samples, ['sglang:time_to_first_token_seconds']),
      itlSeconds: histogramOfFirst(samples, [
        'sglang:inter_token_latency_seconds',
        'sglang:time_per_output_token_seconds',
      ]),
      queueSeconds: histogramOfFirst(samples, ['sglang:queue_time_seconds']),
    });
  },
};
