import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { extractTraceContext, tracer } from '@spillway/telemetry';
import {
  type CallContext,
  ServerError,
  type ServerMiddleware,
  type ServerMiddlewareCall,
  Status,
} from 'nice-grpc-common';
import { bindToContext, endRpcSpan, metadataCarrier, rpcSpanNaming } from '../tracing/rpc-span.js';

/**
 * Runs each call in a SERVER span that continues the caller's W3C trace. For a server stream the
 * span covers the whole stream, because that is how long the caller waited.
 */
export const serverTracingMiddleware: ServerMiddleware = async function* traceServerCall<
  Request,
  Response,
>(
  call: ServerMiddlewareCall<Request, Response>,
  callContext: CallContext,
): AsyncGenerator<Response, Response | void, undefined> {
  const { name, attributes } = rpcSpanNaming(call.method.path);
  // ROOT_CONTEXT: a server call's only legitimate parent is the one the client sent.
  const parent = extractTraceContext(metadataCarrier(callContext.metadata), ROOT_CONTEXT);
  const span = tracer('@spillway/grpc').startSpan(
    name,
    { kind: SpanKind.SERVER, attributes },
    parent,
  );
  let code = Status.OK;
  let message: string | undefined;
  try {
    const inner: AsyncGenerator<Response, Response | void, undefined> = call.next(
      call.request,
      callContext,
    );
    return yield* bindToContext(trace.setSpan(parent, span), inner);
  } catch (error) {
    // The error-mapping middleware runs inside this one, so only ServerError and aborts arrive.
    if (error instanceof ServerError) {
      code = error.code;
      message = error.details;
    } else {
      code = callContext.signal.aborted ? Status.CANCELLED : Status.UNKNOWN;
    }
    throw error;
  } finally {
    if (code === Status.OK && callContext.signal.aborted) code = Status.CANCELLED;
    endRpcSpan(span, code, isServerFault, message);
  }
};

/** OTel RPC conventions: a server span is an error only when the server is at fault. */
function isServerFault(code: Status): boolean {
  switch (code) {
    case Status.UNKNOWN:
    case Status.DEADLINE_EXCEEDED:
    case Status.UNIMPLEMENTED:
    case Status.INTERNAL:
    case Status.UNAVAILABLE:
    case Status.DATA_LOSS:
      return true;
    // The caller's mistake or a normal outcome (shed, not found, conflict): not a server failure.
    case Status.OK:
    case Status.CANCELLED:
    case Status.INVALID_ARGUMENT:
    case Status.NOT_FOUND:
    case Status.ALREADY_EXISTS:
    case Status.PERMISSION_DENIED:
    case Status.RESOURCE_EXHAUSTED:
    case Status.FAILED_PRECONDITION:
    case Status.ABORTED:
    case Status.OUT_OF_RANGE:
    case Status.UNAUTHENTICATED:
      return false;
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}
