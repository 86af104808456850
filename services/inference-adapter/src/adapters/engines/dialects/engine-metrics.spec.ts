import {
  Exposition,
  LATENCY_BOUNDS_SECONDS,
} from '../../../../test/factories/prometheus-exposition.js';
import { nextLoadWindow } from '../../../domain/load-snapshot.js';
import { parsePrometheusText } from '../prometheus-text.js';
import { dialectFor } from './index.js';

const model = { model_name: 'meta-llama/Llama-3.1-8B-Instruct' };
const local = { inFlight: 3, maxInFlight: 64, recentPrefixBlocks: [] };

describe('engine metrics → one load snapshot', () => {
  it('maps vLLM V1 metrics, with latency p50s and hit ratio over the scrape window', () => {
    const vllm = dialectFor('vllm');
    const first = vllm.loadFromMetrics(
      parsePrometheusText(
        new Exposition()
          .gauge('vllm:num_requests_running', 7, model)
          .gauge('vllm:num_requests_waiting', 2, model)
          .gauge('vllm:kv_cache_usage_perc', 0.42, model)
          .counter('vllm:prefix_cache_queries_total', 1_000, model)
          .counter('vllm:prefix_cache_hits_total', 100, model)
          .histogram('vllm:time_to_first_token_seconds', LATENCY_BOUNDS_SECONDS, [0.5, 0.5], model)
          .histogram('vllm:inter_token_latency_seconds', LATENCY_BOUNDS_SECONDS, [0.05], model)
          .histogram('vllm:request_queue_time_seconds', LATENCY_BOUNDS_SECONDS, [0.4], model)
          .text(),
      ),
    );
    const second = vllm.loadFromMetrics(
      parsePrometheusText(
        new Exposition()
          .gauge('vllm:num_requests_running', 5, model)
          .gauge('vllm:num_requests_waiting', 0, model)
          .gauge('vllm:kv_cache_usage_perc', 0.4, model)
          .counter('vllm:prefix_cache_queries_total', 2_000, model)
          .counter('vllm:prefix_cache_hits_total', 900, model)
          // Two new TTFTs of 15 ms; the old 500 ms ones must not count in this window.
          .histogram(
            'vllm:time_to_first_token_seconds',
            LATENCY_BOUNDS_SECONDS,
            [0.5, 0.5, 0.015, 0.015],
            model,
          )
          .histogram(
            'vllm:inter_token_latency_seconds',
            LATENCY_BOUNDS_SECONDS,
            [0.05, 0.007, 0.007, 0.007],
            model,
          )
          // The two new requests queued 5 ms of their 15 ms first token.
          .histogram(
            'vllm:request_queue_time_seconds',
            LATENCY_BOUNDS_SECONDS,
            [0.4, 0.005, 0.005],
            model,
          )
          .text(),
      ),
    );
    const window = nextLoadWindow(
      nextLoadWindow(undefined, first, local, 1_000),
      second,
      local,
      2_000,
    );
    expect(window.snapshot).toMatchObject({
      runningRequests: 5,
      waitingRequests: 0,
      kvCacheUsage: 0.4,
      inFlightStreams: 3,
      maxInFlightStreams: 64,
      prefixCacheHitRatio: 0.8,
      observedAtMs: 2_000,
    });
    expect(window.snapshot.ttftMsP50).toBeGreaterThan(10);
    expect(window.snapshot.ttftMsP50).toBeLessThanOrEqual(20);
    expect(window.snapshot.itlMsP50).toBeGreaterThan(5);
    expect(window.snapshot.itlMsP50).toBeLessThanOrEqual(10);
    expect(window.snapshot.queueTimeMsP50).toBeGreaterThan(0);
    expect(window.snapshot.queueTimeMsP50).toBeLessThanOrEqual(5);
  });

  it('understands vLLM V0 names', () => {
    const sample = dialectFor('vllm').loadFromMetrics(
      parsePrometheusText(
        new Exposition()
          .gauge('vllm:gpu_cache_usage_perc', 0.9)
          .gauge('vllm:gpu_prefix_cache_hit_rate', 0.25)
          .histogram('vllm:time_per_output_token_seconds', LATENCY_BOUNDS_SECONDS, [0.03])
          .text(),
      ),
    );
    expect(sample).toMatchObject({ kvCacheUsage: 0.9, prefixCacheHitRate: 0.25 });
    expect(sample.itlSeconds?.count).toBe(1);
  });

  it('maps SGLang metrics', () => {
    const sample = dialectFor('sglang').loadFromMetrics(
      parsePrometheusText(
        new Exposition()
          .gauge('sglang:num_running_reqs', 12, model)
          .gauge('sglang:num_queue_reqs', 4, model)
          .gauge('sglang:token_usage', 0.28, model)
          .gauge('sglang:cache_hit_rate', 0.6, model)
          .histogram(
            'sglang:time_to_first_token_seconds',
            LATENCY_BOUNDS_SECONDS,
            [0.03, 0.03, 0.03],
            model,
          )
          .histogram('sglang:inter_token_latency_seconds', LATENCY_BOUNDS_SECONDS, [0.009], model)
          .text(),
      ),
    );
    const snapshot = nextLoadWindow(undefined, sample, local, 5).snapshot;
    expect(snapshot).toMatchObject({
      runningRequests: 12,
      waitingRequests: 4,
      kvCacheUsage: 0.28,
      prefixCacheHitRatio: 0.6,
    });
    expect(snapshot.ttftMsP50).toBeGreaterThan(20);
    expect(snapshot.ttftMsP50).toBeLessThanOrEqual(40);
  });

  it('maps TGI metrics and leaves what TGI does not publish at 0', () => {
    const sample = dialectFor('tgi').loadFromMetrics(
      parsePrometheusText(
        new Exposition()
          .gauge('tgi_batch_current_size', 9)
          .gauge('tgi_queue_size', 6)
          .gauge('tgi_batch_current_max_tokens', 20_000)
          .histogram(
            'tgi_request_mean_time_per_token_duration',
            LATENCY_BOUNDS_SECONDS,
            [0.02, 0.02],
          )
          .histogram('tgi_request_queue_duration', LATENCY_BOUNDS_SECONDS, [0.3])
          .text(),
      ),
    );
    const snapshot = nextLoadWindow(undefined, sample, local, 5).snapshot;
    expect(snapshot).toMatchObject({
      runningRequests: 9,
      waitingRequests: 6,
      kvCacheUsage: 0,
      ttftMsP50: 0,
      prefixCacheHitRatio: 0,
    });
    expect(snapshot.itlMsP50).toBeGreaterThan(10);
    expect(snapshot.itlMsP50).toBeLessThanOrEqual(20);
    expect(snapshot.queueTimeMsP50).toBeGreaterThan(250);
    expect(snapshot.queueTimeMsP50).toBeLessThanOrEqual(500);
  });

  it('maps llama.cpp metrics; Ollama has none and falls back to the adapter count', () => {
    const llama = dialectFor('llamacpp').loadFromMetrics(
      parsePrometheusText(
        new Exposition()
          .gauge('llamacpp:requests_processing', 2)
          .gauge('llamacpp:requests_deferred', 1)
          .gauge('llamacpp:kv_cache_usage_ratio', 0.5)
          .text(),
      ),
    );
    expect(nextLoadWindow(undefined, llama, local, 5).snapshot).toMatchObject({
      runningRequests: 2,
      waitingRequests: 1,
      kvCacheUsage: 0.5,
    });
    expect(dialectFor('ollama').metricsPath).toBeUndefined();
    expect(nextLoadWindow(undefined, undefined, local, 5).snapshot.runningRequests).toBe(3);
  });
});
