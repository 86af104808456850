import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { injectTraceContext } from './propagation.js';
import { startTelemetry } from './start-telemetry.js';

startTelemetry({ serviceName: 'propagating-tracer-spec', traceExporter: 'none' });
const tracer = trace.getTracer('spec');

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

function remoteParent(flags: TraceFlags) {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: PARENT_SPAN_ID,
    traceFlags: flags,
    isRemote: true,
  });
}

describe('tracing without an exporter', () => {
  it("continues the caller's trace with a new span id and the caller's sampled flag", () => {
    for (const flags of [TraceFlags.SAMPLED, TraceFlags.NONE]) {
      const span = tracer.startSpan('child', {}, remoteParent(flags));
      const spanContext = span.spanContext();
      expect(span.isRecording()).toBe(false);
      expect(spanContext.traceId).toBe(TRACE_ID);
      expect(spanContext.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(spanContext.spanId).not.toBe(PARENT_SPAN_ID);
      expect(spanContext.traceFlags).toBe(flags);
      // What goes on the wire to the next hop names this span as the parent.
      const headers = injectTraceContext<Record<string, string>>(
        {},
        trace.setSpan(ROOT_CONTEXT, span),
      );
      expect(headers.traceparent).toBe(`00-${TRACE_ID}-${spanContext.spanId}-0${flags}`);
    }
  });

  it('starts a new sampled trace without a parent, or when asked for a root', () => {
    const first = tracer.startSpan('root', {}, ROOT_CONTEXT).spanContext();
    const second = tracer.startSpan('root', { root: true }, remoteParent(TraceFlags.SAMPLED));
    expect(first.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(second.spanContext().traceId).not.toBe(TRACE_ID);
    expect(second.spanContext().traceId).not.toBe(first.traceId);
    expect(first.traceFlags).toBe(TraceFlags.SAMPLED);
  });

  it('makes the span active inside startActiveSpan, under the given parent', async () => {
    const seen = await tracer.startActiveSpan(
      'active',
      {},
      remoteParent(TraceFlags.SAMPLED),
      async (span) => {
        await Promise.resolve();
        return { active: trace.getActiveSpan(), span };
      },
    );
    expect(seen.active?.spanContext()).toEqual(seen.span.spanContext());
    expect(seen.span.spanContext().traceId).toBe(TRACE_ID);
    const plain = tracer.startActiveSpan('plain', (span) => span);
    expect(plain.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(context.active()).toBe(ROOT_CONTEXT);
  });
});
