import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import {
  type CallOptions,
  ClientError,
  type ClientMiddleware,
  type ClientMiddlewareCall,
  Metadata,
  Status,
} from 'nice-grpc-common';
import { fromGrpcError, type FromGrpcErrorOptions } from '../errors/from-grpc-error.js';
import { endRpcSpan, metadataSetter, rpcSpanNaming, rpcTracer } from '../tracing/rpc-span.js';
import { budgetMsOf, type DeadlineCallOptions, grpcTimeout } from './deadline.js';

export interface ClientCallOptions {
  /** Applied to every call that does not pass its own `deadline`. */
  readonly defaultDeadlineMs: number;
  /** Rethrow failures as DomainError with these options; undefined leaves ClientError. */
  readonly translateErrors: FromGrpcErrorOptions | undefined;
}

/**
 * Everything Spillway adds to an outgoing call, in one middleware: each extra nice-grpc middleware
 * is another async generator that every streamed message passes through.
 *
 * - Deadline: the timer aborts the call locally, and `grpc-timeout` tells the server the same
 *   budget, so its handler's signal fires and it stops working for nobody. (nice-grpc does not
 *   pass grpc-js call options through; grpc-js itself sends a deadline as this very header.)
 * - Tracing: a CLIENT span, child of whatever span is active where the call was made, sent as
 *   `traceparent` so the server's span becomes its child. It records the raw gRPC status.
 * - Error translation: a failure is rethrown as the DomainError the server threw, so callers
 *   branch on domain codes, never on statuses. ClientError drops trailing metadata, where the
 *   domain code travels, so the trailer is captured on the way past.
 */
export function clientCallMiddleware(
  options: ClientCallOptions,
): ClientMiddleware<DeadlineCallOptions> {
  const { defaultDeadlineMs, translateErrors } = options;
  return async function* makeCall<Request, Response>(
    call: ClientMiddlewareCall<Request, Response>,
    callOptions: CallOptions & Partial<DeadlineCallOptions>,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const callerSignal = callOptions.signal;
    const budgetMs = budgetMsOf(callOptions.deadline ?? defaultDeadlineMs);
    const controller = new AbortController();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      controller.abort();
    }, budgetMs);
    // An abandoned, half-read stream must not keep the process alive until its deadline.
    timer.unref();
    const forwardAbort = callerSignal
      ? (): void => controller.abort(callerSignal.reason)
      : undefined;
    if (callerSignal && forwardAbort) {
      if (callerSignal.aborted) forwardAbort();
      else callerSignal.addEventListener('abort', forwardAbort, { once: true });
    }

    const { name, attributes } = rpcSpanNaming(call.method.path);
    const parent = context.active();
    const span = rpcTracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    // One copy of the caller's metadata per call: it gets the timeout and the trace context.
    const metadata = Metadata(callOptions.metadata);
    metadata.set('grpc-timeout', grpcTimeout(budgetMs));
    propagation.inject(trace.setSpan(parent, span), metadata, metadataSetter);

    // One options object per call; nice-grpc ignores the extra `deadline`.
    const nextOptions: CallOptions = { ...callOptions, metadata, signal: controller.signal };
    let trailer: Metadata | undefined;
    if (translateErrors) {
      nextOptions.onTrailer = (received) => {
        trailer = received;
        callOptions.onTrailer?.(received);
      };
    }

    let code = Status.OK;
    let message: string | undefined;
    try {
      return yield* call.next(call.request, nextOptions);
    } catch (error) {
      const failure =
        expired && !callerSignal?.aborted
          ? new ClientError(
              call.method.path,
              Status.DEADLINE_EXCEEDED,
              `Deadline of ${budgetMs} ms exceeded`,
            )
          : error;
      if (failure instanceof ClientError) {
        code = failure.code;
        message = failure.details;
        if (translateErrors) throw fromGrpcError(failure, trailer, translateErrors);
      } else {
        // Aborts by the caller and local bugs are not the server's answer; let them through.
        code = callerSignal?.aborted ? Status.CANCELLED : Status.UNKNOWN;
      }
      throw failure;
    } finally {
      clearTimeout(timer);
      if (callerSignal && forwardAbort) callerSignal.removeEventListener('abort', forwardAbort);
      // Every non-OK status is a failed call from the caller's point of view.
      endRpcSpan(span, code, (status) => status !== Status.OK, message);
    }
  };
}
