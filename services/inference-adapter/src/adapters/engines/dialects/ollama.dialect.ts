import type { EngineDialect } from './engine-dialect.js';
import { openAiChatBody } from './engine-dialect.js';

/**
 * Ollama through its OpenAI-compatible /v1 endpoint. It continues a trailing assistant message
 * natively. Ollama has no Prometheus metrics, so the shard's load is what the adapter counts
 * itself; `/api/version` answers once the server is up (models load on first use).
 */
export const ollamaDialect: EngineDialect = {
  kind: 'ollama',
  chatPath: '/v1/chat/completions',
  healthPath: '/api/version',
  metricsPath: undefined,
  chatBody(request, stream) {
    return openAiChatBody(request, stream);
  },
  loadFromMetrics() {
    return {};
  },
};
