import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { extractTraceContext } from '@spillway/telemetry';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const spans = new WeakMap<FastifyRequest, Span>();

/**
 * One SERVER span per HTTP request, continuing the caller's W3C trace context. Done as Fastify
 * hooks rather than an auto-instrumentation so it works the same under ESM and in tests.
 */
export function installHttpTracing(app: FastifyInstance): void {
  const tracer = trace.getTracer('spillway-gateway');
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = extractTraceContext(request.headers);
    const span = tracer.startSpan(
      `${request.method} ${request.routeOptions.url ?? request.url}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0] ?? request.url,
          'http.route': request.routeOptions.url ?? '',
        },
      },
      parent,
    );
    spans.set(request, span);
    // Everything Nest runs for this request (and its outgoing calls) happens inside the span.
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
