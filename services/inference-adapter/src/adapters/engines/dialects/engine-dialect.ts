import type { EngineChatRequest, EngineKind } from '../../../application/engine.port.js';
import type { EngineLoadSample } from '../../../domain/load-snapshot.js';
import type { PromSample } from '../prometheus-text.js';

/**
 * How one engine family differs from plain OpenAI chat completions: the request body, where its
 * health and metrics live, and what its metrics are called. Adding an engine is adding one file.
 */
export interface EngineDialect {
  readonly kind: EngineKind;
  readonly chatPath: string;
  /** GET path answering 200 once the engine serves. */
  readonly healthPath: string;
  /** GET path of Prometheus metrics; undefined when the engine has none. */
  readonly metricsPath: string | undefined;
  chatBody(request: EngineChatRequest, stream: boolean): Record<string, unknown>;
  loadFromMetrics(samples: readonly PromSample[]): EngineLoadSample;
}

/** The OpenAI chat-completions body every engine here accepts. */
export function openAiChatBody(
  request: EngineChatRequest,
  stream: boolean,
): Record<string, unknown> {
  const s = request.sampling;
  const body: Record<string, unknown> = {
    model: request.model,
    messages: request.messages.map((m) =>
      m.name
        ? { role: m.role, content: m.content, name: m.name }
        : { role: m.role, content: m.content },
    ),
    stream,
  };
  if (stream) body.stream_options = { include_usage: true };
  if (s.temperature !== undefined) body.temperature = s.temperature;
  if (s.topP !== undefined) body.top_p = s.topP;
  if (s.maxTokens !== undefined) body.max_tokens = s.maxTokens;
  if (s.stop !== undefined && s.stop.length > 0) body.stop = [...s.stop];
  if (s.seed !== undefined) body.seed = s.seed;
  if (s.presencePenalty !== undefined) body.presence_penalty = s.presencePenalty;
  if (s.frequencyPenalty !== undefined) body.frequency_penalty = s.frequencyPenalty;
  return body;
}

/** Drops absent fields so `exactOptionalPropertyTypes`-style consumers see only what was reported. */
export function compactSample(sample: {
  [K in keyof EngineLoadSample]: EngineLoadSample[K] | undefined;
}): EngineLoadSample {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sample)) if (value !== undefined) out[key] = value;
  return out;
}
