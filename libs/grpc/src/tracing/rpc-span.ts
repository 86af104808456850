import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanStatusCode,
} from '@opentelemetry/api';
import { type HeaderCarrier } from '@spillway/telemetry';
import { type Metadata, type Status } from 'nice-grpc-common';

/** `/spillway.inference.v1.Inference/Generate` → name and attributes per OTel RPC conventions. */
export function rpcSpanNaming(path: string): { name: string; attributes: Attributes } {
  const name = path.startsWith('/') ? path.slice(1) : path;
  const slash = name.lastIndexOf('/');
  return {
    name,
    attributes: {
      'rpc.system': 'grpc',
      'rpc.service': slash < 0 ? name : name.slice(0, slash),
      'rpc.method': slash < 0 ? '' : name.slice(slash + 1),
    },
  };
}

/** Text metadata as a propagation carrier; binary (-bin) values cannot hold a traceparent. */
export function metadataCarrier(metadata: Metadata): HeaderCarrier {
  const carrier: HeaderCarrier = {};
  for (const [key, values] of metadata) {
    const first = values[0];
    if (typeof first === 'string') carrier[key] = first;
  }
  return carrier;
}

export function endRpcSpan(
  span: Span,
  code: Status,
  isError: (code: Status) => boolean,
  message?: string,
): void {
  span.setAttribute('rpc.grpc.status_code', code);
  if (isError(code))
    span.setStatus({ code: SpanStatusCode.ERROR, ...(message !== undefined ? { message } : {}) });
  span.end();
}

/**
 * Runs every step of `inner` inside `ctx`. AsyncLocalStorage follows the caller of `next()`, and
 * for a generator that caller is nice-grpc's loop, not the code that created the span; without
 * this, a streaming handler's later chunks (and every nested call) would lose the span.
 */
export async function* bindToContext<T, R>(
  ctx: Context,
  inner: AsyncGenerator<T, R, undefined>,
): AsyncGenerator<T, R, undefined> {
  let finished = false;
  try {
    while (true) {
      let result: IteratorResult<T, R>;
      try {
        result = await context.with(ctx, () => inner.next());
      } catch (error) {
        finished = true;
        throw error;
      }
      if (result.done) {
        finished = true;
        return result.value;
      }
      yield result.value;
    }
  } finally {
    // The consumer stopped early (cancel, write error): let the handler run its own finally blocks.
    if (!finished) await context.with(ctx, () => inner.return(undefined as R));
  }
}
