import type { EngineDialect } from './engine-dialect.js';
import { compactSample, openAiChatBody } from './engine-dialect.js';
import { histogramOfFirst, sumOfFirst } from '../prometheus-text.js';

/**
 * Hugging Face TGI through its Messages API. TGI publishes no KV-cache fill, no prefix-cache
 * counters and no TTFT histogram, so those stay unreported; its per-request mean time per token
 * stands in for inter-token latency. TGI's chat template has no "continue the last message"
 * switch: a resumed turn sends the partial reply as the last assistant message and relies on the
 * template rendering it open-ended (exact continuation needs TGI's raw /generate, not used here).
 */
export const tgiDialect: EngineDialect = {
  kind: 'tgi',
  chatPath: '/v1/chat/completions',
  healthPath: '/health',
  metricsPath: '/metrics',
  chatBody(request, stream) {
    return openAiChatBody(request, stream);
  },
  loadFromMetrics(samples) {
    return compactSample({
      running: sumOfFirst(samples, ['tgi_batch_current_size']),
      waiting: sumOfFirst(samples, ['tgi_queue_size']),
      kvCacheUsage: undefined,
      prefixCacheQueries: undefined,
      prefixCacheHits: undefined,
      prefixCacheHitRate: undefined,
      ttftSeconds: undefined,
      itlSeconds: histogramOfFirst(samples, ['tgi_request_mean_time_per_token_duration']),
      queueSeconds: histogramOfFirst(samples, ['tgi_request_queue_duration']),
    });
  },
};
