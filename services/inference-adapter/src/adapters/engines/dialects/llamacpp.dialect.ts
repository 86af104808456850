import type { EngineDialect } from './engine-dialect.js';
import { compactSample, openAiChatBody } from './engine-dialect.js';
import { meanOfFirst, sumOfFirst } from '../prometheus-text.js';

/**
 * llama.cpp's `llama-server` (metrics need `--metrics`). A trailing assistant message is taken as
 * a prefill and continued, so a resumed turn needs no extra flag; `cache_prompt` keeps the slot's
 * KV for the conversation's next turn.
 */
export const llamacppDialect: EngineDialect = {
  kind: 'llamacpp',
  chatPath: '/v1/chat/completions',
  healthPath: '/health',
  metricsPath: '/metrics',
  chatBody(request, stream) {
    return { ...openAiChatBody(request, stream), cache_prompt: true };
  },
  loadFromMetrics(samples) {
    return compactSample({
      running: sumOfFirst(samples, ['llamacpp:requests_processing']),
      waiting: sumOfFirst(samples, ['llamacpp:requests_deferred']),
      kvCacheUsage: meanOfFirst(samples, ['llamacpp:kv_cache_usage_ratio']),
      prefixCacheQueries: undefined,
      prefixCacheHits: undefined,
      prefixCacheHitRate: undefined,
      ttftSeconds: undefined,
      itlSeconds: undefined,
      queueSeconds: undefined,
    });
  },
};
