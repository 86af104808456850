import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { EngineFailure, EngineUsage } from '../../application/engine.port.js';

// The engine CLIENT span's attributes follow OTel's HTTP and GenAI conventions.

export function recordUsage(span: Span, usage: EngineUsage): void {
  span.setAttributes({
    'gen_ai.usage.input_tokens': usage.promptTokens,
    'gen_ai.usage.output_tokens': usage.completionTokens,
  });
}

export function recordFinish(
  span: Span,
  finishReason: string | null,
  usage: EngineUsage | undefined,
): void {
  if (finishReason !== null) span.setAttribute('gen_ai.response.finish_reasons', [finishReason]);
  if (usage) recordUsage(span, usage);
}

export function endSpan(span: Span, failure: EngineFailure | undefined): void {
  if (failure && failure.kind !== 'cancelled') {
    span.recordException(failure);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  } else if (failure) {
    span.setAttribute('spillway.cancelled', true);
  }
  span.end();
}
