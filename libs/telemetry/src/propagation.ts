import {
  context,
  propagation,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

/** A carrier of string headers: HTTP headers, gRPC metadata as a plain object, Kafka headers. */
export type HeaderCarrier = Record<string, string | string[] | Buffer | undefined>;

const setter: TextMapSetter<HeaderCarrier> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const getter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value === undefined) return undefined;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return value;
  },
};

/** Writes traceparent/tracestate/baggage of `ctx` (default: the active context) into the carrier. */
export function injectTraceContext<C extends HeaderCarrier>(
  carrier: C,
  ctx: Context = context.active(),
): C {
  propagation.inject(ctx, carrier, setter);
  return carrier;
}

/** Returns a context whose parent is the trace context found in the carrier, if any. */
export function extractTraceContext(
  carrier: HeaderCarrier,
  ctx: Context = context.active(),
): Context {
  return propagation.extract(ctx, carrier, getter);
}

/** The active context's traceparent header value, or undefined outside a sampled span. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: HeaderCarrier = {};
  injectTraceContext(carrier, ctx);
  const value = carrier.traceparent;
  return typeof value === 'string' ? value : undefined;
}
