import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { PropagatingTracerProvider } from './propagating-tracer.js';

export type TraceExporterKind = 'none' | 'memory' | 'otlp';

export interface TelemetryOptions {
  readonly serviceName: string;
  /**
   * Where ended spans go. With 'none' spans are not recorded at all; the trace context is still
   * propagated (see PropagatingTracer), so one trace still spans every hop.
   */
  readonly traceExporter: TraceExporterKind;
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  readonly otlpEndpoint?: string;
  /** Port for the Prometheus /metrics endpoint; undefined keeps metrics in-process only. */
  readonly metricsPort?: number;
}

export interface Telemetry {
  readonly options: TelemetryOptions;
  /** Present when traceExporter is 'memory': the spans this process has ended. */
  readonly memoryExporter: InMemorySpanExporter | undefined;
  readonly prometheus: PrometheusExporter | undefined;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let active: Telemetry | undefined;

/**
 * Installs the global tracer and meter providers, the async-local context manager and W3C
 * propagation. Idempotent per process: a second call returns the first installation, because
 * grpc-js, kafkajs and Nest must all see one provider.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (active) return active;

  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName });
  const memoryExporter =
    options.traceExporter === 'memory' ? new InMemorySpanExporter() : undefined;
  const spanProcessors: SpanProcessor[] = [];
  if (memoryExporter) spanProcessors.push(new SimpleSpanProcessor({ exporter: memoryExporter }));
  if (options.traceExporter === 'otlp') {
    spanProcessors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(options.otlpEndpoint ? { url: options.otlpEndpoint } : {}),
        scheduledDelayMillis: 200,
      }),
    );
  }
  // Without an exporter no span is ever read: spans only carry the trace context along.
  const tracerProvider =
    spanProcessors.length > 0 ? new TracerProvider({ resource, spanProcessors }) : undefined;

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
  trace.setGlobalTracerProvider(tracerProvider ?? new PropagatingTracerProvider());

  const prometheus =
    options.metricsPort === undefined
      ? undefined
      : new PrometheusExporter({ port: options.metricsPort, host: '127.0.0.1' });
  const meterProvider = new MeterProvider({ resource, readers: prometheus ? [prometheus] : [] });
  metrics.setGlobalMeterProvider(meterProvider);

  active = {
    options,
    memoryExporter,
    prometheus,
    flush: async () => {
      await tracerProvider?.forceFlush();
    },
    shutdown: async () => {
      await tracerProvider?.shutdown();
      await meterProvider.shutdown();
      active = undefined;
    },
  };
  return active;
}

export function activeTelemetry(): Telemetry | undefined {
  return active;
}

/** Reads the standard variables; used by the `--import` entry point. */
export function telemetryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TelemetryOptions {
  const serviceName = env.OTEL_SERVICE_NAME ?? env.SPILLWAY_SERVICE ?? 'spillway';
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? tracesUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const requested = env.SPILLWAY_TRACE_EXPORTER;
  if (requested !== undefined && !['none', 'memory', 'otlp'].includes(requested)) {
    throw new Error(
      `SPILLWAY_TRACE_EXPORTER has value ${JSON.stringify(requested)}: expected none, memory or otlp`,
    );
  }
  const traceExporter =
    (requested as TraceExporterKind | undefined) ?? (endpoint ? 'otlp' : 'none');
  const metricsPort = env.METRICS_PORT === undefined ? undefined : Number(env.METRICS_PORT);
  if (
    metricsPort !== undefined &&
    !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort < 65536)
  ) {
    throw new Error(
      `METRICS_PORT has value ${JSON.stringify(env.METRICS_PORT)}: expected a port number`,
    );
  }
  return {
    serviceName,
    traceExporter,
    ...(endpoint ? { otlpEndpoint: endpoint } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
  };
}

function tracesUrl(base: string | undefined): string | undefined {
  if (!base) return undefined;
  return `${base.replace(/\/$/, '')}/v1/traces`;
}
