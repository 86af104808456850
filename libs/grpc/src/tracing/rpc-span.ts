import {
  type Attributes,
  type Span,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { type Metadata, type Status } from 'nice-grpc-common';

/**
 * One tracer for every call. Taken once: before telemetry starts it is a proxy that switches to
 * the real provider as soon as one is registered.
 */
export const rpcTracer = trace.getTracer('@spillway/grpc');

export interface RpcSpanNaming {
  readonly name: string;
  readonly attributes: Attributes;
}

// A process calls a handful of methods; the SDK copies attributes into each span, so one shared
// object per path is safe and saves the string work on every call.
const namings = new Map<string, RpcSpanNaming>();

/** `/spillway.inference.v1.Inference/Generate` → name and attributes per OTel RPC conventions. */
export function rpcSpanNaming(path: string): RpcSpanNaming {
  let naming = namings.get(path);
  if (naming === undefined) {
    const name = path.startsWith('/') ? path.slice(1) : path;
    const slash = name.lastIndexOf('/');
    naming = {
      name,
      attributes: Object.freeze({
        'rpc.system': 'grpc',
        'rpc.service': slash < 0 ? name : name.slice(0, slash),
        'rpc.method': slash < 0 ? '' : name.slice(slash + 1),
      }),
    };
    namings.set(path, naming);
  }
  return naming;
}

/**
 * gRPC metadata as a propagation carrier, read and written in place (no header object per call).
 * Binary (-bin) values cannot hold a traceparent, so only text values are read.
 */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Array.from(metadata, ([key]) => key),
  get: (metadata, key) => {
    const value = metadata.get(key);
    return typeof value === 'string' ? value : undefined;
  },
};

export const metadataSetter: TextMapSetter<Metadata> = {
  set: (metadata, key, value) => metadata.set(key, value),
};

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
