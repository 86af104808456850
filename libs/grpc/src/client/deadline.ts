import {
  type CallOptions,
  ClientError,
  type ClientMiddleware,
  type ClientMiddlewareCall,
  Metadata,
  Status,
} from 'nice-grpc-common';

export interface DeadlineCallOptions {
  /** An absolute Date, or milliseconds from now. Overrides the client's default for this call. */
  readonly deadline?: Date | number;
}

/**
 * Gives every call a deadline. The timer aborts the call locally, and `grpc-timeout` tells the
 * server the same budget, so its handler's signal fires and it stops working for nobody.
 * (nice-grpc does not pass grpc-js call options through; grpc-js itself sends a deadline as this
 * very header, and the server side parses it from there.)
 */
export function deadlineMiddleware(
  defaultDeadlineMs: number,
): ClientMiddleware<DeadlineCallOptions> {
  return async function* applyDeadline<Request, Response>(
    call: ClientMiddlewareCall<Request, Response>,
    options: CallOptions & Partial<DeadlineCallOptions>,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const { deadline = defaultDeadlineMs, signal: callerSignal, ...rest } = options;
    const budgetMs = Math.max(
      0,
      Math.floor(deadline instanceof Date ? deadline.getTime() - Date.now() : deadline),
    );

    const controller = new AbortController();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      controller.abort();
    }, budgetMs);
    // An abandoned, half-read stream must not keep the process alive until its deadline.
    timer.unref();
    const forwardAbort = (): void => controller.abort(callerSignal?.reason);
    if (callerSignal?.aborted) forwardAbort();
    callerSignal?.addEventListener('abort', forwardAbort);

    const metadata = Metadata(options.metadata);
    metadata.set('grpc-timeout', grpcTimeout(budgetMs));
    try {
      return yield* call.next(call.request, { ...rest, metadata, signal: controller.signal });
    } catch (error) {
      if (expired && !callerSignal?.aborted) {
        throw new ClientError(
          call.method.path,
          Status.DEADLINE_EXCEEDED,
          `Deadline of ${budgetMs} ms exceeded`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', forwardAbort);
    }
  };
}

/** The wire format allows at most 8 digits, so long budgets move to a coarser unit. */
function grpcTimeout(ms: number): string {
  if (ms < 100_000_000) return `${ms}m`;
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 100_000_000) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(seconds / 3600))}H`;
}
