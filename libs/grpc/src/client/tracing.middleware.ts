import { context, SpanKind, trace } from '@opentelemetry/api';
import { injectTraceContext, type HeaderCarrier, tracer } from '@spillway/telemetry';
import {
  type CallOptions,
  ClientError,
  type ClientMiddleware,
  type ClientMiddlewareCall,
  Metadata,
  Status,
} from 'nice-grpc-common';
import { bindToContext, endRpcSpan, rpcSpanNaming } from '../tracing/rpc-span.js';

/**
 * Wraps each call in a CLIENT span, child of whatever span is active where the call was made,
 * and sends that span as `traceparent` so the server's span becomes its child.
 */
export const clientTracingMiddleware: ClientMiddleware = async function* traceClientCall<
  Request,
  Response,
>(
  call: ClientMiddlewareCall<Request, Response>,
  options: CallOptions,
): AsyncGenerator<Response, Response | void, undefined> {
  const { name, attributes } = rpcSpanNaming(call.method.path);
  const parent = context.active();
  const span = tracer('@spillway/grpc').startSpan(
    name,
    { kind: SpanKind.CLIENT, attributes },
    parent,
  );
  const spanContext = trace.setSpan(parent, span);

  const carrier: HeaderCarrier = {};
  injectTraceContext(carrier, spanContext);
  const metadata = Metadata(options.metadata);
  for (const [key, value] of Object.entries(carrier))
    if (typeof value === 'string') metadata.set(key, value);

  let code = Status.OK;
  let message: string | undefined;
  try {
    const inner: AsyncGenerator<Response, Response | void, undefined> = call.next(call.request, {
      ...options,
      metadata,
    });
    return yield* bindToContext(spanContext, inner);
  } catch (error) {
    if (error instanceof ClientError) {
      code = error.code;
      message = error.details;
    } else {
      code = options.signal?.aborted ? Status.CANCELLED : Status.UNKNOWN;
    }
    throw error;
  } finally {
    // Every non-OK status is a failed call from the caller's point of view.
    endRpcSpan(span, code, (status) => status !== Status.OK, message);
  }
};
