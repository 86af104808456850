import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import {
  type CallContext,
  ServerError,
  type ServerMiddleware,
  type ServerMiddlewareCall,
  Status,
} from 'nice-grpc-common';
import { endRpcSpan, metadataGetter, rpcSpanNaming, rpcTracer } from '../tracing/rpc-span.js';
import { type GrpcErrorLog, toClientVisibleError } from './error-mapping.js';

/**
 * Everything Spillway adds to a served call, in one middleware: each extra nice-grpc middleware is
 * another async generator that every streamed message passes through.
 *
 * - Tracing: a SERVER span that continues the caller's W3C trace. For a server stream it covers
 *   the whole stream, because that is how long the caller waited.
 * - Error mapping (see toClientVisibleError), inside the span so it records the status chosen.
 */
export function serverCallMiddleware(log: GrpcErrorLog): ServerMiddleware {
  return async function* serveCall<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    callContext: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const { name, attributes } = rpcSpanNaming(call.method.path);
    // ROOT_CONTEXT: a server call's only legitimate parent is the one the client sent.
    const parent = propagation.extract(ROOT_CONTEXT, callContext.metadata, metadataGetter);
    const span = rpcTracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    const spanContext = trace.setSpan(parent, span);
    let code = Status.OK;
    let message: string | undefined;
    const handler: AsyncGenerator<Response, Response | void, undefined> = call.next(
      call.request,
      callContext,
    );
    const nextStep = () => handler.next();
    let handlerFinished = false;
    try {
      while (true) {
        let step: IteratorResult<Response, Response | void>;
        try {
          // AsyncLocalStorage follows the caller of next(), which for a generator is nice-grpc's
          // loop, not this span; without the span around each step a streaming handler's later
          // chunks (and every call they make) would lose it.
          step = await context.with(spanContext, nextStep);
        } catch (error) {
          handlerFinished = true;
          throw error;
        }
        if (step.done) {
          handlerFinished = true;
          return step.value;
        }
        yield step.value;
      }
    } catch (error) {
      const answer = toClientVisibleError(error, call.method.path, callContext, span, log);
      if (answer instanceof ServerError) {
        code = answer.code;
        message = answer.details;
      } else {
        code = callContext.signal.aborted ? Status.CANCELLED : Status.UNKNOWN;
      }
      throw answer;
    } finally {
      // The consumer stopped early (cancel, write error): let the handler run its finally blocks.
      if (!handlerFinished) await context.with(spanContext, () => handler.return(undefined));
      if (code === Status.OK && callContext.signal.aborted) code = Status.CANCELLED;
      endRpcSpan(span, code, isServerFault, message);
    }
  };
}

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
